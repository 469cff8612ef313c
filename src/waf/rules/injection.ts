/**
 * Template injection, Node.js code injection, prototype pollution (9341xx/9342xx, beside CRS's
 * 934xxx generic-attack family) and XML external entities (9343xx). Templates in data are normal
 * (`{{name}}`, ICU `{count, plural, …}`, JS `${token}`), so the SSTI rules need arithmetic inside
 * delimiters (the universal probe) or an object-graph walk towards code (`__class__`, `getClass`).
 */
import { ARGS, ARGS_AND_HEADERS, CRITICAL, Form, T_NAME, T_VALUE, T_TEXT, type Rule } from '../rule.js';

const NORM = [Form.Norm];

export const INJECTION_RULES: readonly Rule[] = [
  {
    id: 934100, family: 'nodejs', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'Node.js code injection (require("child_process"), process.mainModule, constructor.constructor)',
    pattern: /\brequire ?\( ?["'`]child_process["'`] ?\)|\bchild_process\b|\bprocess ?\. ?(?:mainmodule|binding|dlopen)\b|\bglobal ?\. ?process\b|\bconstructor ?\. ?constructor ?\(|\bfunction ?\( ?["'`] ?return ?(?:process|this|global)\b|\.(?:execsync|spawnsync|execfile) ?\( ?["'`]/,
  },
  {
    id: 934130, family: 'proto-pollution', severity: CRITICAL, paranoia: 1, targets: T_NAME, forms: NORM,
    msg: 'Prototype pollution through a key (__proto__, constructor.prototype, constructor[prototype])',
    pattern: /(?:^|[.[])__proto__(?:$|[.[\]])|(?:^|[.[])constructor(?:\.|\[ ?['"]?)prototype\b/,
  },
  {
    id: 934131, family: 'proto-pollution', severity: CRITICAL, paranoia: 1, targets: T_VALUE | T_TEXT, forms: NORM,
    msg: 'Prototype pollution inside a value ({"__proto__": …}, __proto__[x]=)',
    pattern: /["'`]__proto__["'`] ?:|\b__proto__ ?(?:\[|\. ?[a-z_$]{1,40} ?=)|\bconstructor ?\[ ?["'`]?prototype\b|["'`]constructor["'`] ?: ?\{ ?["'`]prototype["'`] ?:/,
  },
  {
    id: 934140, family: 'ssti', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'Template expression walking to code (__class__, __globals__, config.items, _self.env, |attr()',
    // (?<!\{): in a run of braces only the first can open, which keeps `{{{{…` linear.
    pattern: /(?<!\{)\{[{%][^}]{0,150}(?:__class__|__mro__|__subclasses__|__globals__|__builtins__|__import__|__init__|\.mro ?\(|config\.items ?\(|self\._templatereference|request\.application|lipsum\.|cycler\.|joiner\.|namespace\.|constructor\.constructor|_self\.env|\|attr ?\(|getclass ?\(|\.popen ?\(|\[["']__)/,
  },
  {
    id: 934141, family: 'ssti', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'Template arithmetic probe ({{7*7}}, ${7*7}, #{7*7}, <%= 7*7 %>, {{7*\'7\'}})',
    pattern: /\{\{ ?-?\d{1,10} ?[*+/%-] ?["']?-?\d{1,10}["']? ?\}\}|[$#*@]\{ ?-?\d{1,10} ?[*+/%-] ?-?\d{1,10} ?\}|<%=? ?-?\d{1,10} ?[*+/-] ?\d{1,10} ?%>|\[\[ ?-?\d{1,10} ?\* ?\d{1,10} ?\]\]|@\( ?\d{1,10} ?[*+] ?\d{1,10} ?\)/,
  },
  {
    id: 934142, family: 'ssti', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'Server-side scriptlet with code (<%= `id` %>, <%= system(…) %>, <% Runtime… %>)',
    pattern: /<%[=-]? ?(?:`|system\b|exec\b|eval\b|%x|io\.popen|file\.(?:read|open)|runtime\b|request\.|process\.|require ?\(|global\.|import |class |java\.|new java)/,
  },
  {
    id: 934143, family: 'ssti', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'FreeMarker, Velocity or Smarty directive reaching code (<#assign …?new(), #set($x=…), $class.inspect, {php})',
    pattern: /<#assign\b|\bfreemarker\.template\.utility\.(?:execute|objectconstructor|jythonruntime)\b|\?new ?\( ?\)|#set ?\( ?\$[a-z_]{1,40} ?=|\$class\.(?:inspect|type|forname)|#foreach ?\( ?\$[a-z_]{1,40} in|\{\/?php\}|\{system ?\(|\{\$smarty\.(?:version|template)|\$\{ ?(?:product|[a-z_]{1,20})\.getclass ?\(/,
  },
  {
    id: 934300, family: 'xxe', severity: CRITICAL, paranoia: 1, targets: ARGS | T_VALUE, forms: NORM,
    msg: 'XML entity declaration (<!ENTITY … SYSTEM, parameter entities, billion laughs)',
    pattern: /<!entity\b/,
  },
  {
    id: 934310, family: 'xxe', severity: CRITICAL, paranoia: 1, targets: ARGS | T_VALUE, forms: NORM,
    msg: 'External DTD or XInclude (<!DOCTYPE x SYSTEM "…", <xi:include>)',
    pattern: /<!doctype [\w:.-]{1,64} ?(?:system|public) ?["']|<xi:include\b|xmlns:xi ?= ?["']http:\/\/www\.w3\.org\/2001\/xinclude/,
  },
];
