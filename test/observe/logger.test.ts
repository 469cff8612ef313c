/**
 * The process logger's pieces that replace pino defaults for speed (docs/performance.md) must not
 * change what is written: the cached ISO timestamp equals Date#toISOString, lines reach the
 * destination whole and in order, and a lone line is not held back.
 */
import t from 'tap';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProcessLogger, isoTime } from '../../src/observe/logger.js';

void t.test('isoTime is pino isoTime: same text for every millisecond shape and across seconds', async (t) => {
  const realNow = Date.now;
  t.teardown(() => { Date.now = realNow; });
  const base = Date.UTC(2026, 10, 27, 23, 59, 58);
  // ms 0, 7, 42, 999; the same second twice (cache hit), then the next second, minute, day and year
  const stamps = [base, base + 7, base + 42, base + 999, base + 1000, base + 1001, base + 2005, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1)];
  for (const now of stamps) {
    Date.now = () => now;
    t.equal(isoTime(), `,"time":"${new Date(now).toISOString()}"`, new Date(now).toISOString());
  }
});

void t.test('lines reach the file whole and in order, all of them by flush()', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'out.log');
  const proc = createProcessLogger({ destination: openSync(file, 'w') });
  for (let i = 0; i < 500; i++) proc.logger.info({ i, pad: 'x'.repeat(i % 300) }, 'line');
  proc.flush();
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  t.equal(lines.length, 500, 'every line written by flush()');
  t.same(lines.map((l) => (JSON.parse(l) as { i: number }).i), Array.from({ length: 500 }, (_, i) => i), 'whole JSON lines, in order');
});

void t.test('a lone line at low traffic is written without waiting for more lines', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'out.log');
  const proc = createProcessLogger({ destination: openSync(file, 'w') });
  proc.logger.info({ listener: 'http' }, 'listening');
  const deadline = Date.now() + 2_000;
  let text = '';
  while (Date.now() < deadline) {
    text = readFileSync(file, 'utf8');
    if (text !== '') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.match(text, /"msg":"listening"/, 'written without a flush() call or more traffic');
});
