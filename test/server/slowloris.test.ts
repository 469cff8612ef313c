/**
 * Slowloris: a client trickling its request head is cut off with 408 once
 * headersTimeoutMs passes, and the upstream never sees it.
 */
import t from 'tap';
import { connect } from 'node:net';
import { startUpstream } from '../helpers/upstream.js';
import { startGateway } from '../helpers/gateway.js';

void t.test('a trickled request head gets 408 after headersTimeoutMs', async (t) => {
  const up = await startUpstream();
  const gw = await startGateway({
    server: { limits: { headersTimeoutMs: 300, requestTimeoutMs: 1000 } },
    routes: [{ name: 'all', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const started = Date.now();
  const answer = await new Promise<string>((resolve) => {
    const s = connect(gw.port, '127.0.0.1');
    let text = '';
    let sent = 0;
    const lines = ['GET / HTTP/1.1\r\n', 'Host: h\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n', 'X-E: 5\r\n', 'X-F: 6\r\n'];
    const trickle = setInterval(() => {
      if (sent < lines.length && !s.destroyed) s.write(lines[sent++]!);
    }, 400);
    s.on('data', (c: Buffer) => { text += c.toString('latin1'); });
    s.on('close', () => { clearInterval(trickle); resolve(text); });
    s.on('error', () => undefined);
    setTimeout(() => s.destroy(), 5_000); // bound: never hang the suite
  });
  const elapsed = Date.now() - started;
  t.match(answer, /^HTTP\/1\.1 408 /, 'answered 408');
  t.ok(elapsed < 3_000, `cut off after ${elapsed} ms, well before the trickle would end`);
  t.equal(up.received.length, 0);
});
