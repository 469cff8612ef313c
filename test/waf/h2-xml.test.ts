// HTTP/2 pseudo-headers are not WAF header targets, and XML bodies are inspected for XXE.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { compileWafStage } from '../../bench/waf-stage.js';
import { RequestCtx } from '../../src/pipeline/context.js';
import type { IncomingHttpHeaders } from 'node:http';
import { makeCtx } from './helpers.js';

/** What node:http2's compatibility API gives the gateway for one real request: headers and rawHeaders. */
async function h2Request(path: string, headers: Record<string, string>): Promise<{ headers: IncomingHttpHeaders; rawHeaders: string[] }> {
  const server = http2.createServer();
  const seen = new Promise<{ headers: IncomingHttpHeaders; rawHeaders: string[] }>((resolve) => {
    server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      resolve({ headers: req.headers as IncomingHttpHeaders, rawHeaders: req.rawHeaders });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const req = client.request({ ':path': path, ...headers });
  req.resume();
  await new Promise((resolve) => req.on('close', resolve));
  client.close();
  server.close();
  return seen;
}

void t.test('HTTP/2 pseudo-headers are not inspected as headers', async (t) => {
  const stage = compileWafStage(1);
  // As a header value this path is an SSRF metadata probe (934110); as our own route's path it is not.
  const path = '/latest/meta-data/iam';
  const got = await h2Request(path, { 'user-agent': 'curl/8.5.0', 'x-note': 'clean' });
  t.ok(got.rawHeaders.includes(':path'), 'Node puts pseudo-headers in rawHeaders on h2');
  t.equal(got.headers[':path'], path);
  const ctx = new RequestCtx('h2', '192.0.2.1', 'edge', 'GET', '127.0.0.1', path, '', 'http', got.headers, 0n);
  ctx.rawHeaders = got.rawHeaders;
  t.equal((await stage.handle(ctx)).kind, 'continue');
  t.equal(ctx.wafRules, null);
  // The negative twin: the same value in an ordinary header is inspected and blocked.
  const probe = await h2Request('/ok', { 'x-target': `http://169.254.169.254${path}` });
  const bad = new RequestCtx('h2', '192.0.2.1', 'edge', 'GET', '127.0.0.1', '/ok', '', 'http', probe.headers, 0n);
  bad.rawHeaders = probe.rawHeaders;
  t.equal((await stage.handle(bad)).kind, 'respond');
  t.ok(bad.wafRules?.includes(934110));
});

const XXE = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE order [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n<order><note>&xxe;</note></order>';

void t.test('XXE in an XML body is blocked (application/xml, text/xml, +xml)', async (t) => {
  const stage = compileWafStage(1);
  for (const type of ['application/xml', 'text/xml; charset=utf-8', 'application/soap+xml']) {
    const ctx = makeCtx({ method: 'POST', path: '/api/orders', headers: { 'content-type': type }, body: XXE });
    const verdict = await stage.handle(ctx);
    t.equal(verdict.kind, 'respond', type);
    t.ok(ctx.wafRules?.includes(934300), `${type}: entity declaration (934300) in ${String(ctx.wafRules)}`);
  }
  const clean = makeCtx({
    method: 'POST', path: '/api/orders', headers: { 'content-type': 'application/xml' },
    body: '<?xml version="1.0"?>\n<order id="10442"><note>Ring twice &amp; leave it with no. 3</note></order>',
  });
  t.equal((await stage.handle(clean)).kind, 'continue', 'an ordinary XML document passes');
});
