// The benchmark rows, in the order run.ts loads them. Each scenario starts the process under test
// in front of the shared upstream and says what request to load it with; run.ts does the rest
// identically for all. To add a row (full auth pipeline, Redis, WAF on/off, forward-auth, HTTPS …),
// append a Scenario here or in a *-rows.ts file — usually startPortcullis() (start.ts) with another
// config and LoadSpec headers. Row files import row.ts and start.ts, never this file or each other.
import { fileURLToPath } from 'node:url';
import { authFixture } from './auth-fixture.js';
import { passthroughConfig } from './passthrough-config.js';
import { pipelineScenarios } from './pipeline-rows.js';
import type { Scenario } from './row.js';
import { startPortcullis, startScript } from './start.js';
import { tlsScenarios } from './tls-rows.js';
import { wafScenarios } from './waf-rows.js';
import { forwardAuthScenarios } from './forward-auth-rows.js';
import { haproxyScenarios } from './haproxy-rows.js';
import { tracingScenarios } from './tracing-rows.js';

// The baseline is the fastest bare proxy a user would write in twenty lines (issue 17): undici's
// Pool#stream, which hands the upstream body straight to the client response. The pool.request()
// + stream.pipeline proxy (the baseline of issue 8) stays as a reference row in pipeline-rows.ts.
const BARE_PROXY_STREAM_JS = fileURLToPath(new URL('./bare-proxy-stream.js', import.meta.url));

export const scenarios: readonly Scenario[] = [
  {
    name: 'baseline (bare undici proxy, Pool#stream)',
    baseline: true,
    load: authFixture.load,
    start: async (env) => {
      // the token in the shared request is minted here, before the first row is loaded
      await authFixture.prepare(env.workDir);
      return startScript('bare-proxy-stream', [BARE_PROXY_STREAM_JS, env.upstreamUrl]);
    },
  },
  {
    name: 'portcullis passthrough',
    minRatio: 0.95,
    load: authFixture.load,
    start: (env) => startPortcullis(env, 'passthrough', (port) => passthroughConfig(port, env.upstreamUrl)),
  },
  // The full pipeline (issue 8): JWT with and without the token cache, Redis bucket, WAF, access
  // log; 10k rotating clients; server.workers; the fastify reference. See pipeline-rows.ts.
  ...pipelineScenarios(),
  // WAF off/on for a GET with a query and a 2 KB JSON POST (issue 5). See waf-rows.ts.
  ...wafScenarios(),
  // TLS termination (issue 7): HTTPS keep-alive vs plain, and new handshakes per second. See tls-rows.ts.
  ...tlsScenarios(authFixture.load),
  // Forward-auth decisions per second (issue 6): /nginx asked directly, and a real NGINX's auth_request. See forward-auth-rows.ts.
  ...forwardAuthScenarios(),
  // A real HAProxy with the shipped Lua action (issue 19). See haproxy-rows.ts.
  ...haproxyScenarios(),
  // The full pipeline with tracing off / sampleRatio 1 / 0.01 to a local OTLP receiver (issue 19). See tracing-rows.ts.
  ...tracingScenarios(),
];
