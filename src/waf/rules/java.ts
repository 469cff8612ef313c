/**
 * Java attacks (944xxx): Log4Shell lookups, OGNL/Struts and SpEL/EL expressions, class-loader
 * manipulation (Spring4Shell), process execution through reflection, and serialized objects.
 * Log4Shell is inspected everywhere, every header included: a lookup is dangerous wherever a
 * vulnerable logger may print it, and `${${lower:j}ndi:…}` nesting is read as such rather than
 * decoded, since every spelling needs `${` followed by a lookup name or another `${`.
 */
import { ARGS, ARGS_AND_HEADERS, CRITICAL, EVERYWHERE, Form, T_ANY_HEADER, T_NAME, T_VALUE, type Rule } from '../rule.js';

const NORM = [Form.Norm];

export const JAVA_RULES: readonly Rule[] = [
  {
    id: 944100, family: 'java', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'Java process execution or dangerous class (java.lang.Runtime, ProcessBuilder, javax.naming, commons-collections)',
    pattern: /\bjava\.lang\.(?:runtime|processbuilder|system|reflect|classloader|thread|processimpl)\b|\bruntime ?\. ?getruntime ?\(|\.getruntime ?\( ?\) ?\. ?exec ?\(|\bnew processbuilder\b|\bjavax\.(?:script|naming|management)\b|\bjava\.beans\.xmldecoder\b|\borg\.apache\.commons\.collections\d?\.functors\b|\bcom\.sun\.(?:rowset|jndi|org\.apache\.xalan)\b|\bysoserial\b|\borg\.codehaus\.groovy\.runtime\b|\bjava\.net\.(?:urlclassloader|socket)\b|\bclass\.forname ?\(|\.getclass ?\( ?\) ?\. ?(?:forname|getclassloader|getmethod|getdeclaredmethod)\b/,
  },
  {
    id: 944110, family: 'java', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS | T_ANY_HEADER | T_NAME, forms: NORM,
    msg: 'OGNL / Struts expression (#_memberAccess, @java.lang…, %{(#…)})',
    pattern: /#_memberaccess|@ognl\.ognlcontext|\bognlcontext\b|#context ?\[|\bxwork\.methodaccessor\b|\ballowstaticmethodaccess\b|@java\.lang\.|%\{ ?\(? ?#[a-z_]|\$\{ ?\(? ?#[a-z_]|#(?:request|response|session|application|attr|parameters) ?\[|\bstruts\.(?:valuestack|actioncontext)\b|\(#[a-z_]{1,40} ?= ?/,
  },
  {
    id: 944120, family: 'java', severity: CRITICAL, paranoia: 1, targets: T_NAME | T_VALUE, forms: NORM,
    msg: 'Class-loader manipulation through data binding (class.module.classLoader, Spring4Shell)',
    pattern: /(?:^|[.[])class(?:\.|\[ ?['"]?)(?:module|classloader|protectiondomain)\b|\bclassloader\.(?:resources|urls|parent|defaultassertionstatus)\b/,
  },
  {
    id: 944130, family: 'java', severity: CRITICAL, paranoia: 1, targets: ARGS | T_NAME, forms: [Form.Lower, Form.Decoded],
    msg: 'Java serialized object (base64 rO0AB…, hex aced0005)',
    pattern: /\bro0ab[a-z0-9+/]|\baced0005[0-9a-f]|\\xac\\xed\\x00\\x05|%ac%ed%00%05/,
  },
  {
    id: 944140, family: 'java', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'SpEL / EL expression reaching Java (T(java.lang…), ${…getClass()…}, #{…exec(…)})',
    pattern: /\bt ?\( ?java\.|(?<![{$#])[#$]\{[^}]{0,150}(?:getclass ?\(|\.forname ?\(|getruntime ?\(|new java\.|\.exec ?\(|processbuilder)/,
  },
  {
    id: 944150, family: 'log4shell', severity: CRITICAL, paranoia: 1, targets: EVERYWHERE | T_ANY_HEADER, forms: NORM,
    msg: 'Log4j lookup (${jndi:…}, ${${lower:j}ndi:…}, ${env:…}, ${::-j})',
    pattern: /\$\{ ?(?:jndi|lower|upper|env|sys|java|date|base64|main|ctx|k8s|docker|spring|web|log4j|bundle|event|sd|marker|map|jvmrunargs|script|ldap|rmi|dns) ?:(?!-)|\$\{[^}]{0,30}\$\{|\$\{ ?::-|\$\{[a-z]{0,20}:[a-z]{0,20}:-/,
  },
  {
    id: 944151, family: 'log4shell', severity: CRITICAL, paranoia: 1, targets: EVERYWHERE | T_ANY_HEADER, forms: NORM,
    msg: 'JNDI URL (jndi:ldap://, jndi:rmi://)',
    pattern: /\bjndi ?: ?(?:ldaps?|rmi|dns|iiop|corba|nis|nds|https?):/,
  },
];
