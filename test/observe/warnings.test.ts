/**
 * Rate-limited operational warnings (issue 21): a flood of one kind writes one line per interval
 * with the count of the lines it left out; kinds are independent.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import { RateLimitedWarnings } from '../../src/observe/warnings.js';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  return { logger: pino({ base: null }, sink), lines };
}

void t.test('10,000 warnings of one kind → one line, then one more carrying the suppressed count', async (t) => {
  const { logger, lines } = capture();
  const w = new RateLimitedWarnings(logger, 100);
  for (let i = 0; i < 10_000; i++) w.warn('upstream:r:pool_queue_timeout', { reason: 'pool_queue_timeout' }, 'upstream error');
  w.warn('other', { reason: 'x' }, 'another kind');
  await new Promise((r) => setTimeout(r, 150));
  w.warn('upstream:r:pool_queue_timeout', { reason: 'pool_queue_timeout' }, 'upstream error');
  await new Promise((r) => setImmediate(r));
  t.equal(lines.length, 3, 'three lines in all');
  t.equal(lines[0]!['suppressed'], undefined, 'the first is written at once');
  t.equal(lines[1]!['msg'], 'another kind', 'another kind is not held back');
  t.equal(lines[2]!['suppressed'], 9_999, 'the next line after the interval says how many were left out');
});
