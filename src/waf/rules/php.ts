/**
 * PHP injection (933xxx): open tags, stream wrappers, configuration directives, superglobals,
 * high-risk functions and serialized objects. Names that only PHP has (`shell_exec`,
 * `base64_decode`, `$_GET`) are critical on sight; generic ones (`eval`, `system`, `exec`) need
 * an argument shaped like an exploit's and score below the threshold on their own.
 */
import { ARGS, ARGS_AND_HEADERS, CRITICAL, ERROR, Form, T_NAME, type Rule } from '../rule.js';

const NORM = [Form.Norm];

export const PHP_RULES: readonly Rule[] = [
  {
    id: 933100, family: 'php', severity: CRITICAL, paranoia: 1, targets: ARGS, forms: NORM,
    msg: 'PHP open tag (<?php, <?=)',
    pattern: /<\?(?:php\b|=| |$)|\[\/?php\]/,
  },
  {
    id: 933110, family: 'php', severity: CRITICAL, paranoia: 1, targets: ARGS, forms: NORM,
    msg: 'PHP stream wrapper (php://filter, data://, zip://, phar://, expect://)',
    pattern: /\b(?:php|phar|zip|zlib|compress\.zlib|compress\.bzip2|bzip2|expect|glob|ogg|rar|ssh2(?:\.[a-z]{1,8})?|data):\/\//,
  },
  {
    id: 933120, family: 'php', severity: CRITICAL, paranoia: 1, targets: ARGS | T_NAME, forms: NORM,
    msg: 'PHP configuration directive (allow_url_include=, auto_prepend_file=)',
    pattern: /\b(?:allow_url_(?:include|fopen)|auto_(?:prepend|append)_file|disable_functions|open_basedir|register_globals|enable_dl|suhosin\.[a-z_.]{1,40}) ?=/,
  },
  {
    id: 933130, family: 'php', severity: CRITICAL, paranoia: 1, targets: ARGS | T_NAME, forms: NORM,
    msg: 'PHP superglobal ($_GET, $_SERVER, $GLOBALS)',
    pattern: /\$_(?:get|post|cookie|request|server|files|env|session)\b|\$globals\b|\$http_raw_post_data\b/,
  },
  {
    id: 933150, family: 'php', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'High-risk PHP function call (shell_exec(, base64_decode(, passthru(, …)',
    pattern: /(?<![.\w$>:-])(?:shell_exec|passthru|proc_open|pcntl_exec|create_function|call_user_func(?:_array)?|base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|convert_uudecode|file_get_contents|file_put_contents|fsockopen|pfsockopen|phpinfo|highlight_file|show_source|move_uploaded_file|assert_options|preg_replace_callback|posix_(?:getpwuid|uname|kill|setuid)|ini_set|set_time_limit|error_reporting) ?\(/,
  },
  {
    id: 933160, family: 'php', severity: ERROR, paranoia: 1, targets: ARGS_AND_HEADERS, forms: NORM,
    msg: 'Code-execution function with an exploit-shaped argument (eval($…), system(\'id\'), exec(…(…)))',
    pattern: /(?<![.\w$>:-])(?:eval|assert|system|exec|popen|unserialize|preg_replace) ?\( ?(?:\$[a-z_]|["'`][^"'`]{0,200}["'`] ?\)|[a-z_]{2,40} ?\(|chr ?\()/,
  },
  {
    id: 933170, family: 'php', severity: CRITICAL, paranoia: 1, targets: ARGS | T_NAME, forms: NORM,
    msg: 'PHP serialized object (O:8:"stdClass":1:{…})',
    pattern: /\b[oc]:\+?\d{1,6}:"[\w\\]{1,128}":\d{1,6}:\{/,
  },
];
