/**
 * Cross-site scripting (941xxx). Rich-text APIs legitimately carry `<p>`, `<img src=…>`,
 * `<table>` or `<details>`, and text carries `<3`, `a < b`, `<Wayfarer>`: at paranoia 1 a rule
 * needs something that executes — a script element, an event-handler attribute, a script URL,
 * an element that loads active content, or a DOM sink. Patterns run on the Norm form (URL, HTML
 * entity and JS escape decoded, controls removed, whitespace collapsed), so `&#106;avascript:`,
 * `java\tscript:` and `%253Cscript` all read plainly.
 */
import { ARGS_AND_HEADERS, CRITICAL, Form, T_NAME, WARNING, type Rule } from '../rule.js';

const NORM = [Form.Norm];
const XSS_TARGETS = ARGS_AND_HEADERS | T_NAME;

export const XSS_RULES: readonly Rule[] = [
  {
    id: 941110, family: 'xss', severity: CRITICAL, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: 'Script element',
    pattern: /<\/? ?script\b/,
  },
  {
    id: 941120, family: 'xss', severity: CRITICAL, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: 'Event-handler attribute in markup (<img onerror=…>, <svg/onload=…>)',
    pattern: /<[a-z][^>]{0,200}?[ /"'`;]on[a-z]{3,40} ?=/,
  },
  {
    id: 941130, family: 'xss', severity: CRITICAL, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: 'Event-handler attribute after a quote break (" onmouseover="…)',
    pattern: /["'`] ?\/? ?on[a-z]{3,40} ?= ?["'`]? ?[\w$.({[]/,
  },
  {
    id: 941140, family: 'xss', severity: CRITICAL, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: 'Script URL (javascript:, vbscript:, data:text/html)',
    // ` ?` between letters: browsers drop tabs and newlines inside a URL scheme (jav&#x09;ascript:).
    pattern: /\b(?:j ?a ?v ?a|v ?b|l ?i ?v ?e|e ?c ?m ?a) ?s ?c ?r ?i ?p ?t ?:(?: ?[\w$.[\]]{1,60} ?[(=`]| ?void\b| ?\/\/| ?["'`])|\bdata ?: ?(?:text\/html|application\/x?html|text\/xml)\b/,
  },
  {
    id: 941150, family: 'xss', severity: CRITICAL, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: 'Element that loads or runs active content (iframe, object, embed, applet, base, meta, …)',
    pattern: /<(?:iframe|frame|frameset|object|embed|applet|base|meta|isindex|xss|bgsound|layer|ilayer|import|xml:namespace|portal)\b/,
  },
  {
    id: 941160, family: 'xss', severity: CRITICAL, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: 'DOM sink or script gadget (document.cookie, .innerHTML=, String.fromCharCode(, -moz-binding)',
    pattern: /\bdocument ?\. ?(?:cookie|domain|write|writeln)\b|\.(?:inner|outer)html ?=|\bstring ?\. ?fromcharcode ?\(|\beval ?\( ?(?:atob|unescape|string\.fromcharcode|decodeuri)|-moz-binding\b|\bexpression ?\( ?[\w$.]{1,40} ?[.(=]|\bcreatecontextualfragment ?\(/,
  },
  {
    id: 941170, family: 'xss', severity: CRITICAL, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: 'Markup attribute that runs or embeds script (srcdoc=, formaction=, xlink:href=javascript, style=…expression)',
    pattern: /<[a-z][^>]{0,200}?[ /"'`](?:srcdoc|formaction) ?=|\bstyle ?= ?["'`]?[^>"'`]{0,100}(?:expression ?\(|behavior ?:|url ?\( ?['"]? ?javascript)/,
  },
  {
    id: 941180, family: 'xss', severity: WARNING, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: 'Script probe or storage/location access (alert(1), window.location=, localStorage.)',
    pattern: /\b(?:alert|prompt|confirm|print) ?\( ?(?:\d|document\b|window\b|["'`][^"'`]{0,60}["'`] ?\))|\b(?:window|self|top|parent) ?\. ?location ?=|\b(?:localstorage|sessionstorage) ?\.|\bfetch ?\( ?["'`]? ?(?:https?:)?\/\//,
  },
  {
    id: 941210, family: 'xss', severity: CRITICAL, paranoia: 1, targets: XSS_TARGETS, forms: NORM,
    msg: "Breaking out of a JavaScript string into a call ('-alert(1)-', \";prompt(1);//)",
    pattern: /["'`] ?[-+*/%&|^,;] ?(?:alert|prompt|confirm|eval|fetch|import|settimeout|setinterval|function) ?\(/,
  },
  {
    id: 941190, family: 'xss', severity: WARNING, paranoia: 2, targets: XSS_TARGETS, forms: NORM,
    msg: 'Markup element commonly used in XSS payloads (svg, math, style, form, img, video, body, …)',
    pattern: /<(?:svg|math|style|form|img|image|video|audio|body|marquee|details|textarea|input|button|select|template|animate|set|link|html|keygen)\b/,
  },
  {
    id: 941200, family: 'xss', severity: WARNING, paranoia: 2, targets: XSS_TARGETS, forms: NORM,
    msg: 'Event-handler name followed by =',
    pattern: /\bon(?:error|load|click|mouse[a-z]{2,8}|focus|blur|key[a-z]{2,5}|animation[a-z]{3,9}|transition[a-z]{3,6}|pointer[a-z]{2,6}|toggle|begin|wheel|drag[a-z]{0,5}|drop|input|scroll|submit|change|resize|unload|message|hashchange|pageshow|popstate) ?=/,
  },
];
