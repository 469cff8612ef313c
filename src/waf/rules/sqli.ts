/**
 * SQL injection (942xxx) and NoSQL operator injection (9422xx), CRS-style.
 *
 * Free text is full of SQL words ("select a plan", "union of two sets", "O'Brien", "order by
 * price"), so keywords alone never block at paranoia 1. A rule fires on the *shape* of an
 * injection: a quote that closes a string and continues with SQL, a value that is a number
 * followed by SQL, a stacked statement, a tautology, or a function/catalog name that only a
 * database (or an attacker probing one) uses. Patterns run on the Sql form: decoded, lower-cased,
 * inline comments turned into spaces and whitespace runs into one space (SqlStrip removes the
 * comments outright, for keywords split by `/**\/`).
 */
import { ARGS_AND_HEADERS, CRITICAL, ERROR, Form, T_NAME, T_VALUE, T_TEXT, WARNING, type Rule } from '../rule.js';

const SQL = [Form.Sql];
const SQL_BOTH = [Form.Sql, Form.SqlStrip];
const Q = `['"\`]`;

export const SQLI_RULES: readonly Rule[] = [
  {
    id: 942100, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'SQL tautology after a quote break (\' OR \'1\'=\'1, \') OR (\'a\'=\'a)',
    pattern: new RegExp(`${Q} ?\\){0,4} ?(?:or|and|xor|\\|\\||&&) ?\\({0,4} ?(?:${Q}${Q} ?=|${Q}?[\\w.@-]{1,40}${Q}? ?(?:=|<>|!=|<=>|<=?|>=?|\\blike\\b|\\bin ?\\(|\\bbetween\\b|\\bregexp\\b|\\brlike\\b|\\bsounds like\\b)|(?:true|false|null|not)\\b|-?\\d{1,20} ?(?:--|#|;|$))`),
  },
  {
    id: 942110, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'SQL comment after a quote break (admin\'--, 1\'#)',
    pattern: new RegExp(`${Q} ?\\){0,4} ?;? ?(?:--[^ ]{0,10}|-- [^ ]{0,10}|#|# [^ ]{0,10}) ?$`),
  },
  {
    id: 942120, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'SQL clause after a quote break (\' UNION, \' ORDER BY 3, \' INTO OUTFILE)',
    pattern: new RegExp(`${Q} ?\\){0,4} ?(?:union(?: all| distinct)? ?\\(? ?select\\b|order by ?\\d|group by [\\w.\`"]{1,40} ?(?:having|--|#|$)|having ?\\d|procedure analyse|into (?:out|dump)file|limit ?\\d{1,10} ?(?:,|offset|--|#|$)|waitfor (?:delay|time)\\b)`),
  },
  {
    id: 942130, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Stacked SQL statement (; DROP TABLE, ; EXEC xp_, ; SELECT … FROM)',
    pattern: /; ?(?:(?:drop|truncate|alter|create) (?:table|database|schema|view|index|user|procedure|function|trigger)\b|delete from\b|insert into\b|update [\w.`"[\]]{1,64} set\b|exec(?:ute)? (?:master\.|xp_|sp_|\(|@)|declare @|shutdown(?: with nowait)? ?(?:--|#|;|$)|waitfor (?:delay|time)\b|select (?:\*|@@|[\w@]{1,40} ?(?:,|\(|from\b))|grant [\w ,]{1,40} on\b|backup database\b)/,
  },
  {
    id: 942140, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'SQL tautology or contradiction (OR 1=1, AND 1<>2, OR \'a\'=\'a\')',
    pattern: new RegExp(`(?:^|[ '"\`()])(?:or|and|xor|\\|\\||&&) ?\\(? ?(?:-?\\d{1,10} ?(?:=|<=>|==|<>|!=) ?\\(? ?-?\\d{1,10}\\b|${Q}[^'"\`]{0,20}${Q} ?(?:=|<>|!=|like) ?\\(? ?${Q})`),
  },
  {
    id: 942141, family: 'sqli', severity: ERROR, paranoia: 2, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Numeric comparison after a boolean operator (OR 2>1), also common in prose about maths',
    pattern: /(?:^|[ '"`()])(?:or|and|xor|\|\||&&) ?\(? ?-?\d{1,10} ?(?:<=?|>=?) ?\(? ?-?\d{1,10}\b/,
  },
  {
    id: 942150, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'SQL after a numeric value (1 OR 1=1, 1 AND sleep(5), -1 UNION, 1 ORDER BY 9)',
    pattern: new RegExp(`^ ?\\(? ?-?\\d{1,20} ?\\){0,3} ?(?:(?:or|and|xor|div|&&|\\|\\|) (?:not )?(?:-?\\d{1,10} ?(?:=|<|>|!=|<>|--|#|;)|true\\b|false\\b|null\\b|\\(|${Q}|[a-z_]{1,30}\\()|union\\b|order by \\d|group by\\b|having\\b|procedure\\b|limit \\d{1,10} ?(?:,|offset|--|#|$)|-- |--$|#)`),
  },
  {
    id: 942160, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL_BOTH,
    msg: 'UNION SELECT',
    pattern: /\bunion(?: all| distinct)? ?\(? ?select\b/,
  },
  {
    id: 942170, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Time-based blind SQL injection (SLEEP, BENCHMARK, PG_SLEEP, WAITFOR DELAY)',
    pattern: /(?:(?:\b(?:and|or|xor|not|select|if|then|else|when|where)|\|\||&&|[(,'"=]) ?\(? ?(?:sleep ?\( ?\d|benchmark ?\( ?\d)|\bpg_sleep ?\(|\bwaitfor (?:delay|time) ['"`]|\bdbms_(?:pipe\.receive_message|lock\.sleep) ?\(|\bsleep ?\( ?\d{1,10} ?\) ?(?:--|#|['"`]))/,
  },
  {
    id: 942180, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Error-based SQL injection functions (EXTRACTVALUE, UPDATEXML, NAME_CONST, UTL_INADDR)',
    pattern: /\b(?:extractvalue|updatexml|name_const|xmltype|geometrycollection|multipoint|multilinestring|exp ?\( ?~|floor ?\( ?rand) ?\(|\b(?:utl_inaddr\.get_host_(?:address|name)|ctxsys\.drithsx\.sn|dbms_xmlgen\.getxml|utl_http\.request|dbms_java\.runjava)\b/,
  },
  {
    id: 942190, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Database catalog or system variable (information_schema, pg_catalog, @@version)',
    pattern: /\b(?:information_schema|pg_catalog|pg_shadow|pg_user|mysql\.(?:user|db)|sqlite_master|sqlite_schema|sysobjects|syscolumns|msysaccessobjects|msysobjects|sys\.(?:tables|columns|objects|databases|sysprocesses)|all_tab_columns|user_tab_columns|dba_users)\b|@@(?:version|datadir|hostname|basedir|servername|tmpdir|global)\b/,
  },
  {
    id: 942200, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Database procedures and file access (xp_cmdshell, OPENROWSET, LOAD_FILE, INTO OUTFILE)',
    pattern: /\b(?:xp_cmdshell|xp_dirtree|xp_regread|xp_fileexist|sp_oacreate|sp_oamethod|sp_executesql|sp_makewebtask|sp_addlogin|sp_addsrvrolemember|openrowset|opendatasource|bulk insert)\b|\bload_file ?\(|\binto (?:out|dump)file\b/,
  },
  {
    id: 942210, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL_BOTH,
    msg: 'SELECT of a star, a function or a system variable (SELECT *, SELECT version(), SELECT @@version)',
    pattern: /(?<![.\w])select ?(?:\*|@@)|(?<![.\w])select(?:\(| (?:version|user|current_user|system_user|session_user|database|schema|sleep|benchmark|pg_sleep|load_file|char|concat|group_concat|extractvalue|updatexml) ?\()/,
  },
  {
    id: 942211, family: 'sqli', severity: ERROR, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL_BOTH,
    msg: 'SELECT of a column list (SELECT a, b FROM, SELECT 1,2,3)',
    pattern: /(?<![.\w])select [\w.@'"]{1,64} ?, ?[\w.@'"()]{1,64} ?(?:,|from\b)/,
  },
  {
    id: 942220, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'EXISTS subquery in a condition',
    pattern: /\b(?:and|or) (?:not )?exists ?\( ?select\b/,
  },
  {
    id: 942230, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Always-true WHERE/HAVING/WHEN (WHERE 1=1, CASE WHEN (1=1))',
    pattern: /\b(?:where|having|when) \(? ?-?\d{1,10} ?= ?-?\d{1,10}\b/,
  },
  {
    id: 942240, family: 'sqli', severity: ERROR, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'SQL function with injection-shaped arguments (CHAR(0x…), CONCAT(0x7e,…), version(), user())',
    pattern: /(?<![.\w$])(?:char|nchar|chr|concat|concat_ws|group_concat|ascii|substring|substr|mid|hex|unhex|cast|convert|version|database|current_user|system_user|session_user|schema|user) ?\( ?(?:0x[0-9a-f]{2}|\d{1,3} ?,|select\b|\)|@@|\( ?select)/,
  },
  {
    id: 942250, family: 'sqli', severity: ERROR, paranoia: 1, targets: ARGS_AND_HEADERS, forms: [Form.Decoded],
    msg: 'Inline comment splitting a word (UN/**/ION, SEL/*x*/ECT)',
    pattern: /[a-z]\/\*[^*]{0,30}\*\/[a-z]|\/\*!\d{0,5} ?(?:union|select|and|or|from|where|concat|sleep)\b/,
  },
  {
    id: 942260, family: 'sqli', severity: WARNING, paranoia: 1, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Conditional SQL (CASE WHEN … THEN, IF(…,…,…) around SQL)',
    pattern: /\bcase when\b[^;]{0,100}\bthen\b|\bif ?\( ?[^,()]{1,60}, ?(?:sleep|benchmark|select|char|ascii)\b/,
  },
  {
    id: 942300, family: 'sqli', severity: ERROR, paranoia: 2, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'SELECT … FROM in free text',
    pattern: /(?<![.\w])select\b[^;]{0,200}\bfrom\b/,
  },
  {
    id: 942310, family: 'sqli', severity: WARNING, paranoia: 2, targets: ARGS_AND_HEADERS, forms: SQL,
    msg: 'Quote followed by SQL keywords or a trailing comment',
    pattern: new RegExp(`${Q} ?(?:and|or|union|select|from|where|having|order|group|exec|like|between)\\b|(?:--|#) ?$`),
  },
  // ---- NoSQL (MongoDB) operator injection ------------------------------------------------
  {
    id: 942290, family: 'nosqli', severity: CRITICAL, paranoia: 1, targets: T_NAME, forms: [Form.Norm],
    msg: 'MongoDB operator in an argument name or JSON key (user[$ne]=, {"$where": …})',
    pattern: /(?:^|[.[])\$(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|nor|not|elemmatch|expr|jsonschema|function|accumulator|lookup|graphlookup|unionwith)(?:$|[.\]])/,
  },
  {
    id: 942291, family: 'nosqli', severity: CRITICAL, paranoia: 1, targets: T_VALUE | T_TEXT, forms: [Form.Norm],
    msg: 'MongoDB operator as a JSON key inside a value ({"$gt": ""} in a query parameter)',
    pattern: new RegExp(`(?:${Q}|\\[)\\$(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|nor|not|elemmatch|expr)(?:${Q} ?:|\\])`),
  },
];

