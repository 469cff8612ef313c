import t from 'tap';
import { negatives, positives } from './table.js';
import { T_FILENAME, T_PATH, T_VALUE } from '../../../src/waf/rule.js';

void t.test('traversal and sensitive files are caught in every spelling', async (t) => {
  positives(t, [
    { v: '../../etc/shadow', rule: 930110 },
    { v: '..\\..\\..\\windows\\win.ini', rule: 930110 },
    { v: '....//....//....//etc/passwd', rule: 930110 },
    { v: '..%c0%af..%c0%af..%c0%afetc%c0%afpasswd', rule: 930110 },
    { v: '%2e%2e%2f%2e%2e%2fetc', rule: 930100 },
    { v: 'a/../../../b', rule: 930111 },
    { v: '/var/www/../../root/.ssh/id_rsa', rule: 930112 },
    { v: '/etc/passwd', rule: 930120 },
    { v: 'file:///etc/passwd', rule: 930120 },
    { v: '/proc/self/environ', rule: 930120 },
    { v: "x' union select load_file('/etc/passwd')", rule: 930120 },
    { v: 'cat${IFS}/etc/passwd', rule: 930120 },
    { v: 'C:\\Windows\\System32\\drivers\\etc\\hosts', rule: 930120 },
    { v: '/var/log/nginx/access.log', rule: 930121 },
    { v: '../../../../var/www/html/shell.php', rule: 930110, bits: T_VALUE | T_FILENAME },
    { v: '/web-inf/web.xml', rule: 930130, bits: T_PATH },
    { v: '/.git/config', rule: 930130, bits: T_PATH },
    { v: '/app/.env', rule: 930130, bits: T_PATH },
  ]);
});

void t.test('relative paths and path-like prose stay clean', async (t) => {
  negatives(t, [
    "import { x } from '../../lib/render.js'", '../shared/logo.png', 'Logs are in ./logs/app.log',
    'C:\\Users\\dana\\Downloads\\export.csv', '~/Downloads/export.csv', 'deploy/docker/Dockerfile', 'wait... what?',
    '/uploads/2024/05/report.pdf', 'refs/heads/main', 'How_to_reset_your_password',
    // A system file named as a word of a sentence is ops talk, not a file read.
    'Server moved; update /etc/hosts on the jump box', 'Check ~/.ssh/known_hosts, then retry.',
  ]);
  negatives(t, ['/.well-known/openid-configuration', '/static/js/app.3f9c2b1e.js', '/kb/etc-passwd-reset-guide', '/api/v1/repos/acme/.github/workflows'], T_PATH);
});
