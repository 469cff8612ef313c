/**
 * Path traversal and local file inclusion (930xxx). The path itself is already safe: PRODUCT
 * §1.4 normalisation resolves `..` and refuses encoded separators before routing. These rules
 * look at arguments, cookies and headers, on the Path form (decoded, `\` → `/`, `//` → `/`, runs
 * of dots → `..`), so `..%c0%af`, `....//` and `..\..\` all read as `../`.
 *
 * Relative imports in code snippets (`from '../../utils'`) are ordinary text, so one or two steps
 * in the middle of a value are not enough at paranoia 1: a value must start with a traversal,
 * climb three levels, or climb towards a system location.
 */
import { ARGS_AND_HEADERS, CRITICAL, ERROR, Form, T_FILENAME, T_NAME, T_PATH, type Rule } from '../rule.js';

const PATH = [Form.Path];
const LFI_TARGETS = ARGS_AND_HEADERS | T_FILENAME | T_NAME;

export const LFI_RULES: readonly Rule[] = [
  {
    id: 930100, family: 'lfi', severity: CRITICAL, paranoia: 1, targets: LFI_TARGETS, forms: [Form.Lower],
    msg: 'Encoded path traversal left after decoding (%2e%2e%2f, ..%252f, %c0%ae)',
    pattern: /(?:%(?:25){0,2}2e|%c0%ae|%e0%80%ae|%u002e|%uff0e)(?:%(?:25){0,2}2e|%c0%ae|%u002e|%uff0e|\.)|\.(?:%(?:25){0,2}2e|%c0%ae|%u002e|%uff0e)|\.\.(?:%(?:25){0,2}(?:2f|5c)|%c0%af|%e0%80%af|%c1%9c|%u2215|%u2216|%uff0f)/,
  },
  {
    id: 930110, family: 'lfi', severity: CRITICAL, paranoia: 1, targets: LFI_TARGETS, forms: PATH,
    msg: 'Value that starts with a path traversal of two or more levels (../../x, ..\\..\\x, ....//....//x)',
    pattern: /^ ?(?:file:)?\/?\.\.\/\.\.\//,
  },
  {
    id: 930111, family: 'lfi', severity: CRITICAL, paranoia: 1, targets: LFI_TARGETS, forms: PATH,
    msg: 'Path traversal climbing three or more levels',
    pattern: /\.\.\/\.\.\/\.\.\//,
  },
  {
    id: 930112, family: 'lfi', severity: CRITICAL, paranoia: 1, targets: LFI_TARGETS, forms: PATH,
    msg: 'Path traversal towards a system location (../etc, ../../root, ../windows)',
    pattern: /\.\.\/(?:\.\.\/)?(?:etc|proc|root|windows|winnt|boot|sys|dev|var\/(?:log|run|lib|www|spool)|usr\/(?:local\/)?(?:etc|bin)|home\/[\w.-]{1,32}\/\.|\.ssh|\.aws|\.kube|\.git|\.env|inetpub|system32|web-inf|meta-inf)(?:\/|$|\b)/,
  },
  {
    id: 930113, family: 'lfi', severity: ERROR, paranoia: 2, targets: LFI_TARGETS, forms: PATH,
    msg: 'Path traversal climbing two levels',
    pattern: /\.\.\/\.\.\//,
  },
  {
    id: 930120, family: 'lfi', severity: CRITICAL, paranoia: 1, targets: LFI_TARGETS, forms: PATH,
    msg: 'Sensitive operating-system file (/etc/passwd, /proc/self/environ, win.ini, .ssh/id_rsa, …), not as a word of a sentence',
    // Not when the path is a word of prose ("update /etc/hosts on the box"): a space after a word
    // before the path token. A value that is a path, a traversal, a file: URL or SQL's
    // load_file('/etc/passwd') has no such space; `cat /etc/passwd` is command injection's (932101).
    pattern: /(?<![\w,.;:!?)] [\w.~/-]{0,40})(?:\betc\/(?:passwd|shadow|group|gshadow|hosts|hostname|issue|motd|sudoers|crontab|fstab|mtab|profile|bashrc|resolv\.conf|environment|master\.passwd|pwd\.db|ssh\/|ssl\/private|nginx\/|apache2?\/|httpd\/|mysql\/|security\/)|\bproc\/(?:self|\d{1,7})\/(?:environ|cmdline|maps|mem|fd|status|cwd|root|exe|mounts)\b|\bproc\/(?:version|cpuinfo|meminfo|net\/|sched_debug|partitions)\b|\b(?:win|boot|system)\.ini\b|\bwindows\/(?:system32|win\.ini|repair|system\.ini)|\bsystem32\/(?:config|drivers\/etc|cmd\.exe)|\binetpub\/|\.ssh\/(?:id_[a-z0-9]{1,10}|authorized_keys|known_hosts)|\.aws\/credentials|\.kube\/config|\.docker\/config\.json|\.bash_history|\.git\/(?:config|head|index)\b|\.htpasswd\b|\bwp-config\.php\b|\/var\/run\/secrets\/|\bweb-inf\/(?:web|classes|lib))/,
  },
  {
    id: 930121, family: 'lfi', severity: CRITICAL, paranoia: 1, targets: LFI_TARGETS, forms: PATH,
    msg: 'Value that is an absolute path into system directories (/var/log/…, /etc/…, /root/…, c:/windows/…)',
    pattern: /^ ?(?:file:\/{0,3})?(?:\/(?:var\/(?:log|www|lib|run|spool|mail|backups)|etc|root|proc|sys|boot|dev\/(?:tcp|udp|shm|fd)|usr\/local\/etc|home\/[\w.-]{1,32}\/\.)\/|[a-z]:\/(?:windows|winnt|inetpub|boot\.ini|users\/[\w. -]{1,32}\/(?:ntuser|appdata)))/,
  },
  {
    id: 930130, family: 'lfi', severity: CRITICAL, paranoia: 1, targets: T_PATH, forms: PATH,
    msg: 'Request for a restricted file or directory (/.git/, /.env, /WEB-INF/, /.htaccess, …)',
    pattern: /(?:^|\/)(?:\.git|\.svn|\.hg|\.bzr|\.env|\.aws|\.ssh|\.kube|\.docker|\.htaccess|\.htpasswd|\.ds_store|\.npmrc|\.pypirc|\.netrc|\.bash_history|\.git-credentials|\.dockercfg|web-inf|meta-inf|wp-config\.php|phpinfo\.php|server-status|server-info|id_rsa|id_dsa|id_ecdsa|id_ed25519|web\.config)(?:$|\/|\.(?:bak|old|orig|save|swp|txt|local|prod|production|dev|backup))/,
  },
  {
    id: 930140, family: 'lfi', severity: ERROR, paranoia: 2, targets: T_PATH, forms: PATH,
    msg: 'Backup, source-control or dump file extension in the path',
    pattern: /\.(?:bak|old|orig|swp|swo|sav|save|backup|sql|sqlite|db|mdb|inc|conf|cfg|ini|log|pem|key|p12|pfx)$/,
  },
];
