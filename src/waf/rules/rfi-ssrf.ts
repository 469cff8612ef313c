/**
 * Remote file inclusion (931xxx) and server-side request forgery (9341xx). URLs in parameters
 * are everyday data (image proxies, webhooks, return_to), so what is flagged is a URL that points
 * where no client has business sending the server: cloud metadata services, loopback and
 * link-local addresses, hosts spelled as integers or hex to slip past allow-lists, and schemes
 * that talk to non-HTTP services (gopher:, dict:, file:, ldap:, jar:). The URL rules anchor on
 * the start of the value: a URL-valued parameter is the URL, whereas a sentence that mentions
 * `localhost:3000` is not a request for it.
 */
import { ARGS, CRITICAL, ERROR, Form, T_ANY_HEADER, T_HEADER, type Rule } from '../rule.js';

const NORM = [Form.Norm];
/** `scheme://` or `//`, then optional userinfo (`http://trusted@127.0.0.1`). */
const URL_START = String.raw`^ ?(?:[a-z][a-z0-9+.-]{1,20}:)?\/\/(?:[^/?#@ ]{1,128}@)?`;
const HOST_END = String.raw`(?=[:/?#\\]|$)`;
/** Hosts that are always internal, however spelled. */
const INTERNAL_HOST = [
  'localhost(?:\\.localdomain)?',
  '127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}', '127\\.\\d{1,3}\\.\\d{1,8}', '127\\.\\d{1,8}',
  '0\\.0\\.0\\.0', '0',
  '169\\.254\\.\\d{1,3}\\.\\d{1,3}',
  '\\[(?:::1?|::ffff:[0-9a-f.:]{1,40}|0:0:0:0:0:(?:0|ffff):[0-9a-f.:]{1,20}|fe80:[0-9a-f:%.]{1,40}|fd00:ec2::254)\\]',
  '\\d{8,10}', // the whole IPv4 address as one integer: 2130706433, 2852039166
  '0x[0-9a-f]{1,8}', // hex: 0x7f000001, 0xA9FEA9FE
  '0x[0-9a-f]{1,2}\\.[0-9a-fx.]{1,20}', // dotted hex: 0x7f.0x0.0x0.0x1
  '0[0-7]{1,3}\\.[0-9.]{1,15}', // octal: 0177.0.0.1
  '[\\w.-]{0,200}\\.(?:localhost|internal|localdomain|nip\\.io|sslip\\.io|xip\\.io|localtest\\.me|lvh\\.me|vcap\\.me)',
  'metadata(?:\\.google\\.internal)?', 'instance-data',
].join('|');

/**
 * Parameters that send the *browser* somewhere (OAuth redirect URIs, post-login returns): the
 * server never fetches them, and loopback values are standard for native apps (RFC 8252 §7.3).
 */
const BROWSER_REDIRECT = /(?:^|[.[])(?:redirect_uris?|redirect_url|post_logout_redirect_uri|return_to|returnto|return_url|returnurl|continue)\]?$/;

export const RFI_SSRF_RULES: readonly Rule[] = [
  {
    id: 931100, family: 'rfi', severity: CRITICAL, paranoia: 1, targets: ARGS, forms: NORM,
    msg: 'Remote file inclusion: a URL ending in "?" to cut off the appended suffix',
    pattern: /^ ?(?:https?|ftps?|file):\/\/[^ ]{1,2048}\?$/,
  },
  {
    id: 931110, family: 'rfi', severity: CRITICAL, paranoia: 1, targets: ARGS, forms: [Form.Decoded],
    msg: 'Remote file inclusion through a UNC path (\\\\host\\share\\file)',
    pattern: /^ ?\\\\[\w.$-]{1,255}\\[\w$.-]{1,255}/,
  },
  {
    id: 931120, family: 'rfi', severity: CRITICAL, paranoia: 1, targets: ARGS, forms: NORM,
    msg: 'Include function with a remote URL (include("http://…"))',
    pattern: /\b(?:include|require)(?:_once)? ?\(? ?["'`] ?(?:https?|ftps?|php|data|expect|zip|phar):\/\//,
  },
  {
    id: 931130, family: 'rfi', severity: ERROR, paranoia: 2, targets: ARGS, forms: NORM,
    msg: 'URL whose host is an IP address',
    pattern: /^ ?(?:https?|ftps?):\/\/(?:[^/?#@ ]{1,128}@)?\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?=[:/?#]|$)/,
  },
  {
    id: 934110, family: 'ssrf', severity: CRITICAL, paranoia: 1, targets: ARGS | T_HEADER | T_ANY_HEADER, forms: NORM,
    msg: 'Cloud metadata service address or path (169.254.169.254, metadata.google.internal, /latest/meta-data)',
    pattern: /169\.254\.169\.254|\b169\.254\.170\.2\b|\bmetadata\.google\.internal\b|\bmetadata\.azure\.com\b|\b100\.100\.100\.200\b|\bfd00:ec2::254\b|\[::ffff:a9fe:a9fe\]|::ffff:169\.254\.169\.254|\/computemetadata\/v1\b|\/latest\/(?:meta-data|user-data|dynamic\/instance-identity|api\/token)\b|\/metadata\/(?:instance|identity)\b|\/opc\/v[12]\/instance\b|\bmetadata\.tencentyun\.com\b/,
  },
  {
    id: 934120, family: 'ssrf', severity: CRITICAL, paranoia: 1, targets: ARGS, forms: NORM,
    msg: 'URL pointing at a loopback, link-local or internal host, or one spelled as an integer, hex or octal',
    pattern: new RegExp(URL_START + '(?:' + INTERNAL_HOST + ')' + HOST_END),
    unlessName: BROWSER_REDIRECT,
  },
  {
    id: 934121, family: 'ssrf', severity: ERROR, paranoia: 2, targets: ARGS, forms: NORM,
    msg: 'URL pointing at a private (RFC 1918) address',
    pattern: new RegExp(URL_START + String.raw`(?:10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3})` + HOST_END),
  },
  {
    id: 934122, family: 'ssrf', severity: CRITICAL, paranoia: 1, targets: ARGS, forms: NORM,
    msg: 'URL with a scheme that reaches non-HTTP services or files (gopher:, dict:, file:, ldap:, jar:, netdoc:)',
    pattern: /^ ?(?:gopher|dict|ldaps?|tftp|rmi|iiop|corba|netdoc|sftp|smb|nfs|mailto:[^ ]{0,200}%0a|jar:(?:https?|file|ftp)):|^ ?file:(?:\/|\\)|\b(?:gopher|dict|netdoc):\/\//,
  },
];
