/**
 * The certificate file watcher (issue 7): directory events debounced into one reload, a change
 * during a reload gets its own, the stat poll catches what fs.watch cannot see, close() stops.
 */
import t from 'tap';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { FileWatcher } from '../../src/tls/watch.js';
import { eventually } from '../helpers/gateway.js';
import { tempDir } from '../helpers/certs.js';

/** A directory of this test's own holding a.pem (see tempDir: no t.testdir() name clashes). */
async function withPem(t: { teardown(fn: () => unknown): void }, sub = ''): Promise<string> {
  const root = await tempDir(t);
  const dir = sub === '' ? root : join(root, sub);
  if (sub !== '') await mkdir(dir);
  await writeFile(join(dir, 'a.pem'), 'x');
  return root;
}

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

void t.test('a burst of writes is one reload', async (t) => {
  const dir = await withPem(t);
  let calls = 0;
  const w = new FileWatcher([join(dir, 'a.pem')], async () => { calls++; }, { logger, debounceMs: 100, pollMs: 60_000 });
  t.teardown(() => w.close());
  await w.start();
  for (let i = 0; i < 5; i++) {
    await writeFile(join(dir, 'a.pem'), `v${i}`);
    await sleep(10);
  }
  t.ok(await eventually(() => calls === 1, 2_000));
  await sleep(300);
  t.equal(calls, 1, 'no second reload for the same burst');
});

void t.test('a change while a reload runs triggers another one after it', async (t) => {
  const dir = await withPem(t);
  let calls = 0;
  let release: () => void = () => {};
  const w = new FileWatcher([join(dir, 'a.pem')], async () => {
    calls++;
    if (calls === 1) await new Promise<void>((r) => { release = r; });
  }, { logger, debounceMs: 20, pollMs: 60_000 });
  t.teardown(() => w.close());
  await w.start();
  await writeFile(join(dir, 'a.pem'), 'v1');
  t.ok(await eventually(() => calls === 1));
  await writeFile(join(dir, 'a.pem'), 'v2');
  await sleep(100);
  t.equal(calls, 1, 'reloads never overlap');
  release();
  t.ok(await eventually(() => calls === 2), 'the change made during the first run is read');
});

void t.test('the stat poll sees a directory that was replaced under the watch', async (t) => {
  const root = await withPem(t, 'mount');
  const dir = join(root, 'mount');
  let calls = 0;
  const w = new FileWatcher([join(dir, 'a.pem')], async () => { calls++; }, { logger, debounceMs: 20, pollMs: 1_500 });
  t.teardown(() => w.close());
  await w.start();
  await rm(dir, { recursive: true });
  await mkdir(dir);
  await writeFile(join(dir, 'a.pem'), 'remounted');
  await sleep(300); // the events of the removal have been handled
  const seen = calls;
  await writeFile(join(dir, 'a.pem'), 'changed again');
  // fs.watch on the old directory is gone: only the poll can notice this second write.
  await sleep(200);
  t.equal(calls, seen, 'no directory event for the new directory');
  t.ok(await eventually(() => calls > seen, 3_000), 'the poll noticed');
});

void t.test('close() stops watching and polling', async (t) => {
  const dir = await withPem(t);
  let calls = 0;
  const w = new FileWatcher([join(dir, 'a.pem')], async () => { calls++; }, { logger, debounceMs: 20, pollMs: 50 });
  await w.start();
  w.close();
  await writeFile(join(dir, 'a.pem'), 'v1');
  await sleep(300);
  t.equal(calls, 0);
});

void t.test('a failing reload is logged, and watching goes on', async (t) => {
  const dir = await withPem(t);
  const lines: string[] = [];
  const log = pino({ level: 'error' }, { write: (s: string) => { lines.push(s); } });
  let calls = 0;
  const w = new FileWatcher([join(dir, 'a.pem')], async () => {
    calls++;
    if (calls === 1) throw new Error('boom');
  }, { logger: log, debounceMs: 20, pollMs: 60_000 });
  t.teardown(() => w.close());
  await w.start();
  await writeFile(join(dir, 'a.pem'), 'v1');
  t.ok(await eventually(() => calls === 1 && lines.length === 1));
  t.match(lines[0], /certificate reload failed unexpectedly/);
  await writeFile(join(dir, 'a.pem'), 'v2');
  t.ok(await eventually(() => calls === 2));
});
