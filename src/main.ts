#!/usr/bin/env node
/**
 * The `portcullis` command (PRODUCT §2): argument parsing only; the work is
 * in config/ and server/.
 *
 *   portcullis serve [--config config/gateway.yaml]   (default command)
 *   portcullis check [--config …]                     validate, print compiled routes, exit 0/1
 *   portcullis token --sub alice [--scope s] [--claim k=v]… [--ttl 15m] [--aud a]   dev token on stdout
 *   portcullis policy [--config …] [--format table|json|markdown] | --diff OLD NEW   who may reach what (src/policy/)
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from './config/load.js';
import { compileGateway } from './compile/gateway.js';
import { ConfigError } from './config/errors.js';
import { GatewayMetrics } from './observe/metrics.js';
import { createProcessLogger } from './observe/logger.js';
import { Runtime } from './server/runtime.js';
import { startTracing } from './server/tracing.js';
import { SHAPES } from './shapes.js';
import { checkListenerFiles } from './tls/certificates.js';
import { TlsFileError, underConfigKey } from './tls/files.js';
import { attachWorkerToPrimary, isClusterWorker } from './server/cluster/worker.js';
import { DevTokenError, mintDevToken } from './auth/dev-token.js';
import { POLICY_USAGE } from './policy/usage.js';

const DEFAULT_CONFIG = 'config/gateway.yaml';
const USAGE = `usage: portcullis [serve|check] [--config ${DEFAULT_CONFIG}]
       portcullis token --sub <sub> [--scope "a b"] [--claim k=v]… [--ttl 15m] [--aud <aud>] [--issuer portcullis-dev] [--key <private JWK file>]
${POLICY_USAGE}`;

function fail(message: string): never {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(1);
}

async function check(configPath: string): Promise<void> {
  const cfg = await loadConfigFile(configPath);
  const { logger } = createProcessLogger({ destination: 2, level: 'warn' });
  const gateway = await compileGateway(cfg, { logger, metrics: new GatewayMetrics({ defaultMetrics: false }) });
  const lines = [`config ${configPath} is valid: ${gateway.routes.routes.length} route(s), first match wins`];
  gateway.routes.routes.forEach((r, i) => lines.push(`  ${i + 1}. ${r.describe()}`));
  // The HTTPS listener's files fail `check` as they would fail startup (issue 7).
  if (cfg.listeners.https) lines.push(...await checkListenerFiles(cfg.listeners.https).catch((err: unknown) => { throw underConfigKey('listeners.https', err); }));
  process.stdout.write(lines.join('\n') + '\n');
  await gateway.retire();
}

async function serve(configPath: string): Promise<void> {
  const proc = createProcessLogger();
  const config = await loadConfigFile(configPath);
  // The cluster primary's code is loaded only where it runs: `server.workers` 1 (the default) never needs it.
  const primary = !isClusterWorker() && config.server.workers !== 1 ? await import('./server/cluster/primary.js') : null;
  if (primary !== null && primary.workerCount(config) > 1) {
    // server.workers: this process becomes the cluster primary; each worker runs serve() again.
    const { runPrimary } = primary;
    process.on('uncaughtException', (err) => { proc.logger.fatal({ err }, 'uncaught exception in the cluster primary'); proc.flush(); process.exit(70); });
    const code = await runPrimary({ configPath, config, logger: proc.logger, flush: proc.flush });
    proc.flush();
    process.exit(code);
  }
  // A worker's lines carry its slot (1…N, stable across restarts) so they can be told apart.
  const slot = Number(process.env['PORTCULLIS_WORKER_INDEX']);
  const logger = isClusterWorker() && Number.isInteger(slot) ? proc.logger.child({ worker: slot }) : proc.logger;
  const metrics = new GatewayMetrics();
  const deps = { logger, metrics, tracing: await startTracing(config.tracing, logger) };
  const gateway = await compileGateway(config, deps);
  const runtime = new Runtime(configPath, gateway, deps, SHAPES);
  const stop = (signal: string): void => {
    runtime.shutdown(signal).then(
      () => { proc.flush(); process.exit(0); },
      (err: unknown) => { logger.error({ err }, 'shutdown failed'); proc.flush(); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => { void runtime.reload(); });
  // Last line of defence: a bug must not take down every in-flight request silently.
  process.on('uncaughtException', (err) => { logger.fatal({ err }, 'uncaught exception'); proc.flush(); process.exit(70); });
  process.on('unhandledRejection', (err) => { logger.error({ err }, 'unhandled promise rejection'); });
  try {
    await runtime.start();
  } catch (err) {
    // A certificate file is the operator's to fix, like a config error: its message, no stack trace.
    if (err instanceof TlsFileError) logger.fatal({ problem: err.message }, 'cannot start listeners');
    else logger.fatal({ err }, 'cannot start listeners');
    proc.flush();
    if (err instanceof TlsFileError) fail(`portcullis: ${err.message}`);
    process.exit(1);
  }
  if (isClusterWorker()) attachWorkerToPrimary(runtime, metrics.registry, logger, stop);
}

/** `portcullis token`: prints only the token, so `$(portcullis token --sub alice)` works. */
async function token(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sub: { type: 'string' }, scope: { type: 'string' }, claim: { type: 'string', multiple: true },
      ttl: { type: 'string' }, aud: { type: 'string' }, issuer: { type: 'string' }, key: { type: 'string' },
    },
  });
  if (values.sub === undefined) fail(`portcullis token: --sub is required\n${USAGE}`);
  process.stdout.write(await mintDevToken({
    sub: values.sub, scope: values.scope, claims: values.claim, ttl: values.ttl, aud: values.aud, issuer: values.issuer, keyFile: values.key,
  }) + '\n');
}

/** `portcullis policy`: its own exit codes (0, 1 = the diff opens something, 2 = bad config or arguments). */
async function policy(argv: string[]): Promise<void> {
  const { runPolicy } = await import('./policy/command.js');
  const out = await runPolicy(argv, DEFAULT_CONFIG);
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.code;
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'token') return token(argv.slice(1));
  if (argv[0] === 'policy') return policy(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const command = positionals[0] ?? 'serve';
  const configPath = values.config ?? DEFAULT_CONFIG;
  if (command === 'serve') return serve(configPath);
  if (command === 'check') return check(configPath);
  fail(`unknown command "${command}"\n${USAGE}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DevTokenError) fail(err.message);
  if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(`${err.message}\n${USAGE}`);
  fail(`portcullis: ${err instanceof Error ? err.message : String(err)}`);
});
