/**
 * A certificate file that cannot be used stops `serve` and fails `check` the way a config error
 * does (PRODUCT §2, §7): exit 1, a message naming the config key and the file, no stack trace —
 * on stderr, and in serve's one fatal log line.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToExit } from '../helpers/process.js';

const STACK = /\n\s+at .*:\d+|"stack"/;

void t.test('a missing or non-PEM certificate: exit 1 naming listeners.https and the file, no stack', async (t) => {
  const dir = t.testdir({ 'empty.pem': '' });
  const cases: [string, string, RegExp][] = [
    ['missing', join(dir, 'nope.pem'), /listeners\.https: cannot read certificate .*nope\.pem: ENOENT/],
    ['not PEM', join(dir, 'empty.pem'), /listeners\.https: (certificate|private key) .*empty\.pem holds no PEM block/],
  ];
  for (const [name, cert, message] of cases) {
    const file = join(dir, `${name.replace(' ', '-')}.yaml`);
    writeFileSync(file, `listeners:\n  https: { host: 127.0.0.1, port: 0, cert: ${cert}, key: ${cert} }\nroutes: []\n`);
    for (const command of ['check', 'serve']) {
      const out = await runToExit([command, '--config', file]);
      t.equal(out.code, 1, `${command} ${name}: exit 1`);
      t.match(out.stderr, message, `${command} ${name}: names the key and the file`);
      t.notMatch(out.stderr + out.stdout, STACK, `${command} ${name}: no stack trace`);
    }
  }
});
