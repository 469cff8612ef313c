/**
 * The access line written without pino's object walk (observe/access-json.ts) must be the bytes
 * pino writes for `logger.info(accessLine(…))`: same fields, order, escaping, level, time,
 * bindings and line end, for ordinary and hostile values; loggers the direct path cannot serve
 * (a mixin) get pino's own output.
 */
import t from 'tap';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { accessLine, type AccessSource } from '../../src/observe/access-log.js';
import { accessFields, accessLineWriter, jsonString } from '../../src/observe/access-json.js';

function capture(opts: LoggerOptions = {}): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({
    base: null,
    timestamp: () => ',"time":"2026-12-07T15:00:00.000Z"',
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['headers.authorization', 'token'], censor: '[redacted]' },
    ...opts,
  }, { write: (s: string) => { lines.push(s); } });
  return { logger, lines };
}

function source(over: Partial<AccessSource['ctx']> = {}, rest: Partial<Omit<AccessSource, 'ctx'>> = {}): AccessSource {
  return {
    ctx: {
      id: 'req-1', clientIp: '203.0.113.7', method: 'GET', host: 'api.example', path: '/api/v1/orders',
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' }, upstreamMs: 1.23456789,
      identity: { sub: 'alice' }, wafRules: null, wafScore: null, ...over,
    },
    route: { name: 'orders' }, decision: 'allow', bytesIn: 0, bytesOut: 97, tlsProtocol: null,
    req: { httpVersion: '1.1' }, ...rest,
  };
}

const cases: [string, AccessSource, number, number][] = [
  ['an ordinary request', source(), 200, 3.14159265],
  ['no route, no identity, no upstream', source({ identity: null, upstreamMs: null }, { route: null, decision: 'no_route' }), 404, 0.5],
  ['WAF rules and score, TLS, HTTP/2', source({ wafRules: [942100, 941110], wafScore: 10 }, { tlsProtocol: 'TLSv1.3', req: { httpVersion: '2.0' } }), 403, 12],
  ['quotes, backslashes and control characters', source({ headers: { 'user-agent': 'a"b\\c\u0001\n\t' }, host: 'h"ost', path: '/a\\b' }), 200, 1],
  ['non-ASCII and a lone surrogate', source({ headers: { 'user-agent': 'héllo ✓ \ud83d\ude00 \ud800' }, identity: { sub: 'ünïcode\udfff' } }), 200, 1],
  ['a null sub, an unknown method, a path parameter, HTTP/1.0', source({ identity: { sub: null }, method: 'BREW', path: '/app;jsessionid=secret/x' }, { req: { httpVersion: '1.0' } }), 400, 0],
  ['a user agent over 256 characters', source({ headers: { 'user-agent': 'x'.repeat(300) + '"' } }), 200, 1],
  ['no user agent, an unusual HTTP version', source({ headers: {} }, { req: { httpVersion: '0.9' } }), 200, 1],
];

void t.test('the direct line is byte for byte what pino writes for the object', async (t) => {
  for (const [name, x, status, ms] of cases) {
    const viaPino = capture();
    viaPino.logger.info(accessLine(x, status, ms));
    const direct = capture();
    accessLineWriter(direct.logger)(x, status, ms);
    t.equal(direct.lines.length, 1, `${name}: one write`);
    // pino's own escaping leaves a lone surrogate raw where JSON.stringify escapes it: same value once parsed
    if (name.includes('surrogate')) t.same(JSON.parse(direct.lines[0]!), JSON.parse(viaPino.lines[0]!), name);
    else t.equal(direct.lines[0], viaPino.lines[0], name);
  }
});

void t.test('values remembered from the previous line (user agent, host, client, route) never leak into the next', async (t) => {
  const direct = capture();
  const write = accessLineWriter(direct.logger);
  // the hostile case between two ordinary ones, twice: each line must equal pino's for its own values
  const order = [0, 3, 0, 3, 1, 1, 6, 0];
  for (const i of order) {
    const [name, x, status, ms] = cases[i]!;
    const viaPino = capture();
    viaPino.logger.info(accessLine(x, status, ms));
    write(x, status, ms);
    t.equal(direct.lines.at(-1), viaPino.lines[0], name);
  }
});

void t.test('child bindings (a cluster worker\'s "worker": N) come where pino puts them', async (t) => {
  const viaPino = capture();
  viaPino.logger.child({ worker: 2 }).info(accessLine(source(), 200, 1));
  const direct = capture();
  accessLineWriter(direct.logger.child({ worker: 2 }))(source(), 200, 1);
  t.equal(direct.lines[0], viaPino.lines[0]);
  t.match(direct.lines[0], /^\{"level":"info","time":"[^"]+","worker":2,"msg":"access",/);
});

void t.test('a level above info writes no access line; lowering it again does', async (t) => {
  const { logger, lines } = capture();
  const write = accessLineWriter(logger);
  logger.level = 'warn';
  write(source(), 200, 1);
  t.equal(lines.length, 0, 'suppressed at warn');
  logger.level = 'info';
  write(source(), 200, 1);
  t.equal(lines.length, 1, 'written at info');
});

void t.test('a logger the direct path cannot serve (a mixin) gets pino\'s own output', async (t) => {
  const { logger, lines } = capture({ mixin: () => ({ extra: 1 }) });
  accessLineWriter(logger)(source(), 200, 1);
  t.match(JSON.parse(lines[0]!), { msg: 'access', extra: 1, route: 'orders' });
});

void t.test('jsonString is JSON.stringify for every character class', async (t) => {
  const samples = ['', 'plain', 'a"b', 'a\\b', '\u0000\u001f', '\u007f', 'é✓', '\ud83d\ude00', '\ud800', '\udfff x', 'x'.repeat(500)];
  for (const s of samples) t.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
  t.equal(accessFields(source(), 200, 1).startsWith(',"msg":"access","requestId":"req-1"'), true, 'fields start with the constant message');
});
