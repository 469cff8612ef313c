/**
 * OS command injection (932xxx). Patterns run on the Cmd form, which reads a value the way a
 * shell would: `c''at`, `c\at` and `c^at` are `cat`, `$IFS` and `${IFS}` are spaces, CR is LF,
 * and LF survives as a command separator. Prose and markdown are full of `;`, `|` and backticks
 * (`npm install`, "| id | name |", "Let cool; slice"), so a separator counts only before a command
 * that is shaped like one: a recon tool, a shell with a flag, a file reader with a path, a
 * downloader with a URL.
 */
import { ARGS_AND_HEADERS, CRITICAL, ERROR, Form, T_ANY_HEADER, T_FILENAME, T_NAME, T_VALUE, T_TEXT, type Rule } from '../rule.js';

const CMD = [Form.Cmd];
/** `$(` and backticks are 932110's: command substitution is common in shell docs. */
const SEP = String.raw`(?:[;|&\n]|\|\||&&)`;
const CMD_PREFIX = String.raw` ?(?:\/usr)?(?:\/s?bin\/)?(?:(?:sudo|nohup|exec|command|busybox) )?(?:\/usr)?(?:\/local)?(?:\/s?bin\/)?`;
const STRONG_COMMANDS = [
  'whoami', 'uname(?: -[a-z]{1,4})?', 'ifconfig', 'ipconfig', 'netstat', 'nslookup', 'systeminfo', 'tasklist', 'getent', 'lsb_release',
  '(?:nc|ncat|netcat|socat|telnet|tftp) (?:-[a-z]|\\d{1,3}\\.\\d|[a-z][\\w.-]{0,63}\\.[a-z]{2,24} \\d)',
  '(?:wget|curl|lwp-download|lynx|aria2c) (?:-[a-z]|https?:|ftp:|\\d{1,3}\\.\\d|[\\w.-]{1,64}\\.[a-z]{2,6}\\b)',
  '(?:ba|z|k|da|tc|c|a)?sh(?= ?(?:-[a-z]{1,3}\\b|<|>|$|[;|&]|\\/))',
  '(?:python[23]?(?:\\.\\d{1,2})?|perl|ruby|php|node|lua|pwsh|powershell(?:\\.exe)?) -(?:c|e|r|rsocket|enc|encodedcommand|nop|w|noni|exec|command)\\b',
  '(?:cat|head|tail|more|less|tac|nl|xxd|base64|strings|od) (?:-[a-z0-9]{1,4} )?(?:\\/|~|\\$|\\.\\.\\/|[\\w.-]{1,64}\\/)',
  '(?:rm -[rf]{1,3}|chmod [0-7+]|chown [\\w.:-]{1,40} |mkfifo |kill -\\d|killall |pkill |crontab |useradd |usermod |shutdown\\b|reboot\\b|init [06]\\b)',
  '(?:ls|dir)(?: -[a-z]{1,6})?(?: (?:\\/|~|\\.|\\$)|$|[;&])',
  '(?:ping -[nc] ?\\d|sleep \\d{1,6} ?(?:$|[;&|]))',
  'echo [^;|&\\n]{0,100}(?:\\||>)',
].join('|');

export const RCE_RULES: readonly Rule[] = [
  {
    id: 932100, family: 'rce', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: CMD,
    msg: 'Unix command after a command separator (; cat /etc/passwd, | nc -e, && wget …, $(uname -a))',
    pattern: new RegExp(SEP + CMD_PREFIX + '(?:' + STRONG_COMMANDS + ')'),
  },
  {
    id: 932101, family: 'rce', severity: CRITICAL, paranoia: 1, targets: T_VALUE | T_TEXT, forms: CMD,
    msg: 'Value that is a shell command line (nc -e …, bash -c …, cat /etc/…, curl … | sh)',
    pattern: /^ ?(?:(?:nc|ncat|netcat) -[a-z]{0,5}[ec]\b|(?:ba|z|k|da)?sh -[ci]\b|(?:cat|head|tail|less|more) \/(?:etc|proc|var|root|home)\/|(?:wget|curl) [^ ]{1,300} ?(?:\| ?(?:ba|z)?sh\b|-o ?\/)|(?:python[23]?|perl|ruby|php) -[cer] |rm -rf \/|chmod [0-7]{3,4} \/|mkfifo )/,
  },
  {
    id: 932105, family: 'rce', severity: ERROR, paranoia: 1, targets: ARGS_AND_HEADERS, forms: CMD,
    msg: 'Short recon command after a separator (;id, &&pwd, `env`)',
    pattern: /(?:[;&`]|&&|\|\|) ?(?:id|pwd|ps|env|printenv|w|who|last)(?: -[a-z]{1,4})? ?(?:$|[;&`)#])/,
  },
  {
    id: 932110, family: 'rce', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: [Form.Decoded],
    msg: 'Command substitution running a recon, download or shell command (`whoami`, $(curl …|sh), a value that is $(id))',
    pattern: /`\s{0,4}(?:whoami|uname(?: -a)?|ifconfig|ipconfig|systeminfo|cat \/etc\/[a-z]{1,20}|sleep \d{1,4}|ping -[nc]|nc -[a-z]{0,4}e|wget |curl [^`]{0,100}\|\s{0,4}(?:ba)?sh)[^`]{0,40}`|\$\(\s{0,4}(?:curl |wget |nc |ncat |bash |sh |cat \/etc\/|python[23]? -c|perl -e)|(?:^|[;|&'"`\n])\s{0,4}\$\(\s{0,4}(?:id|whoami|uname(?: -a)?|hostname|ifconfig|env|pwd|ls|ps)\s{0,4}\)/,
  },
  {
    id: 932111, family: 'rce', severity: ERROR, paranoia: 1, targets: ARGS_AND_HEADERS, forms: [Form.Decoded],
    msg: 'Command substitution of a recon command inside text ($(whoami), $(id -u) — common in shell docs, so scored below the threshold)',
    pattern: /\$\(\s{0,4}(?:id|whoami|uname|hostname|ifconfig|env|ls|ps|echo)\b/,
  },
  {
    id: 932120, family: 'rce', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: CMD,
    msg: 'PowerShell invocation or cmdlet (powershell -enc, IEX, Invoke-WebRequest, DownloadString)',
    pattern: /\b(?:powershell|pwsh)(?:\.exe)? ?-(?:e|ec|enc|encodedcommand|nop|noprofile|noni|noninteractive|w|windowstyle|exec|executionpolicy|ep|c|command|file|sta|bypass)\b|\b(?:invoke-(?:expression|webrequest|restmethod|command|mimikatz|shellcode)|iex ?\(|new-object (?:system\.)?net\.webclient|downloadstring ?\(|downloadfile ?\(|frombase64string ?\(|set-mppreference|start-process )/,
  },
  {
    id: 932130, family: 'rce', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS | T_NAME, forms: [Form.Decoded],
    msg: 'Shell expansion used to dodge filters ($IFS, ${IFS}, ${PATH:0:1})',
    pattern: /\$\{?ifs\b|\$\{[a-z_]{1,30}:\d{1,3}:\d{1,3}\}|\$\{[a-z_]{1,30}:~?-?\d{1,3}\}/,
  },
  {
    id: 932140, family: 'rce', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS | T_ANY_HEADER | T_NAME, forms: [Form.Decoded],
    msg: 'Shellshock function definition (() { :; };)',
    pattern: /^\s{0,8}\(\s{0,8}\)\s{0,8}\{/,
  },
  {
    id: 932150, family: 'rce', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: CMD,
    msg: 'Reverse shell or download-and-run (/dev/tcp/, nc -e, bash -i, | sh, mkfifo, python -c import socket)',
    pattern: /\/dev\/(?:tcp|udp)\/|\b(?:nc|ncat|netcat) -[a-z]{0,5}[ec]\b|\b(?:nc|ncat|netcat) -[a-z]{1,6} -[a-z]{0,5}[ec]\b|\b(?:ba|z|k|da)?sh -i\b|\| ?(?:ba|z|k|da)?sh(?: -[a-z]{1,3})? ?(?:$|[;&|)])|\bmkfifo \/tmp\/|\bsocat [^ ]{0,100}exec:|\bpython[23]? -c ?import (?:socket|os|pty|subprocess)|\bperl -e ?use socket|\bruby -rsocket|\bphp -r ?\$sock|\bxterm -display\b|\b\d{1,3}<&\d{1,3}|>& ?\/dev\//,
  },
  {
    id: 932160, family: 'rce', severity: ERROR, paranoia: 1, targets: ARGS_AND_HEADERS, forms: CMD,
    msg: 'Path to a shell or system binary (/bin/sh, /usr/bin/id)',
    pattern: /(?:^|[^\w.-])\/(?:usr\/)?(?:local\/)?s?bin\/(?:ba|z|k|c|tc|da)?sh\b|\/usr\/bin\/(?:id|whoami|env|perl|python[23]?|nc|wget|curl)\b/,
  },
  {
    id: 932170, family: 'rce', severity: CRITICAL, paranoia: 1, targets: ARGS_AND_HEADERS, forms: CMD,
    msg: 'Windows command injection (cmd /c, net user, certutil -urlcache, bitsadmin /transfer, …)',
    pattern: /(?:^|[;|&\n(]|&&|\|\|) ?(?:cmd(?:\.exe)? ?\/[ck]\b|net (?:user|localgroup|group|share|view|use) |certutil(?:\.exe)? ?-(?:urlcache|decode|encode)\b|bitsadmin ?\/transfer\b|wmic |mshta |rundll32|regsvr32 |cscript |wscript |reg (?:add|query|delete) |schtasks |vssadmin |whoami ?\/)/,
  },
  {
    id: 932180, family: 'rce', severity: CRITICAL, paranoia: 1, targets: T_FILENAME, forms: [Form.Path],
    msg: 'Upload of a server-executable file (.php, .jsp, .aspx, .htaccess, …)',
    pattern: /\.(?:php\d?|phtml|pht|phar|phps|jsp|jspx|jspf|asp|aspx|asa|asax|ascx|ashx|asmx|cer|shtml|cgi|htaccess|htpasswd)(?:$|[.;? ])|(?:^|\/)(?:\.user\.ini|web\.config)$/,
  },
  {
    id: 932190, family: 'rce', severity: CRITICAL, paranoia: 1, targets: T_VALUE | T_TEXT, forms: CMD,
    msg: 'Command injected after an IP address or host name (127.0.0.1;id, example.com|whoami)',
    pattern: /^ ?(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[a-z0-9.-]{1,190}\.[a-z]{2,24}|localhost) ?(?:[;|&\n`]|\$\(|&&|\|\|) ?(?:id|whoami|uname|pwd|ls|cat|ps|env|ping|nc|curl|wget|bash|sh|hostname|ifconfig|ipconfig|reboot)\b/,
  },
];
