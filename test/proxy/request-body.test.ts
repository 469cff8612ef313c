import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { RequestBody } from '../../src/proxy/request-body.js';

/** A server that reads a prefix through RequestBody, then drains forwardStream(); answers what it saw. */
async function withServer(prefixBytes: number, maxBodyBytes: number, fn: (url: string) => Promise<void>): Promise<void> {
  const server = createServer((req: IncomingMessage, res) => {
    const body = new RequestBody(req, maxBodyBytes);
    void (async () => {
      const prefix = await body.readPrefix(prefixBytes);
      const chunks: Buffer[] = [];
      for await (const c of body.forwardStream()) chunks.push(c as Buffer);
      const all = Buffer.concat(chunks);
      res.end(JSON.stringify({ prefix: prefix.bytes.length, complete: prefix.complete, failed: prefix.failed, total: all.length, same: all.toString('latin1') }));
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

void t.test('a prefix read, then prefix + rest forwarded: every byte once, in order', async (t) => {
  const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => 0x41 + (i % 26)));
  await withServer(1024, 10_000_000, async (url) => {
    const res = await request(url, { method: 'POST', body: payload });
    const seen = (await res.body.json()) as { prefix: number; complete: boolean; total: number; same: string };
    t.ok(seen.prefix >= 1024 && seen.prefix < payload.length, 'a bounded prefix (whole chunks)');
    t.equal(seen.complete, false);
    t.equal(seen.total, payload.length);
    t.equal(seen.same, payload.toString('latin1'));
  });
});

void t.test('a body within the bound is read whole; a declared length over maxBodyBytes is not read', async (t) => {
  await withServer(1024, 100, async (url) => {
    const small = await request(url, { method: 'POST', body: 'hello' });
    t.match(await small.body.json(), { prefix: 5, complete: true, total: 5, same: 'hello' });
    const big = await request(url, { method: 'POST', body: Buffer.alloc(500, 0x61) });
    t.match(await big.body.json(), { prefix: 0, complete: false, failed: false, total: 500 }, 'skipped: forwarding answers 413');
  });
});
