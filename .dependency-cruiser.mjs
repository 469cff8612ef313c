// The dependency rule of docs/architecture.md, checked by `npm run deps` (dependency-cruiser) in
// CI: no import cycle anywhere in src/, bench/ and test/, and imports between src/ folders only
// point down the layers below. There is no list of tolerated exceptions: a violation fails CI.

/**
 * Top to bottom: a folder may import its own files and any folder of a LOWER row, never one of
 * its own row (peers) or of a row above (docs/architecture.md).
 */
const LAYERS = [
  ['main.ts'],                        // the CLI
  ['policy'],                         // `portcullis policy`: the access-policy report over config/ + compile/
  ['shapes.ts'],                      // the shapes this binary serves, handed to server/ by main.ts
  ['edge', 'forward-auth'],           // the shapes: the edge proxy (with WebSocket, redirect); forward auth
  ['server'],                         // process: runtime, cluster workers, listeners, admin endpoints
  ['compile'],                        // config → Gateway: every route's stages and upstreams
  ['proxy'],                          // the edge's terminal step: forward to the upstream
  ['pipeline'],                       // Exchange, Gateway, decide/run: one pass per request
  ['route'],                          // client address, normalise, match, CompiledRoute, netpolicy
  ['auth', 'ratelimit', 'waf', 'identity-token'],  // the stages
  ['upstream'],                       // pools, target choice, upstream TLS
  ['tls'],                            // certificates, watch, SNI, client-cert identity, HTTPS options
  ['contract'],                       // what every stage is: Stage, Verdict, RequestContext, denials
  ['observe', 'config', 'demo'],      // logger, metrics, access-log line; config types/load/validate; leaf
];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `src/<name>/…` for a folder, `src/main.ts` for the CLI file. */
const pathOf = (names) => `^src/(${names.map((n) => (n.endsWith('.ts') ? esc(n) + '$' : esc(n) + '/')).join('|')})`;

/**
 * A stage owns its schema fragment and semantic check (STYLE §2 "adding a stage"); config/
 * assembles them, so these files are part of the config layer whatever folder they sit in.
 */
// config/'s own schema.ts is not a fragment (the lookahead), so $1 is always a stage's folder.
const CONFIG_FRAGMENT = '^src/((?!config/)[^/]+)/(schema|config-check)\\.ts$';

const layerRules = LAYERS.flatMap((row, i) => {
  const above = LAYERS.slice(0, i).flat();
  const rules = [];
  if (above.length > 0) {
    rules.push({
      name: `layer-${row.join('+').replace('.ts', '')}`,
      comment: `${row.join(', ')} may not import a layer above it: ${above.join(', ')} (docs/architecture.md)`,
      severity: 'error',
      from: { path: pathOf(row) },
      to: { path: pathOf(above), pathNot: CONFIG_FRAGMENT },
    });
  }
  for (const name of row.length > 1 ? row : []) {
    const peers = row.filter((p) => p !== name);
    rules.push({
      name: `peers-${name.replace('.ts', '')}`,
      comment: `${name} may not import its peers ${peers.join(', ')}: what they share goes one layer down`,
      severity: 'error',
      from: { path: pathOf([name]) },
      to: { path: pathOf(peers), pathNot: CONFIG_FRAGMENT },
    });
  }
  return rules;
});

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle, type-only imports included: a cycle means two files are one concern, or a type is in the wrong place',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'config-fragment-stays-low',
      comment: 'A schema fragment or config check (part of the config layer) imports only config/ and its own folder',
      severity: 'error',
      from: { path: CONFIG_FRAGMENT },
      // $1: the fragment's own folder (the group in CONFIG_FRAGMENT)
      to: { path: '^src/', pathNot: ['^src/config/', '^src/$1/'] },
    },
    {
      name: 'src-stays-in-src',
      comment: 'The product does not import the bench or the tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(bench|test)/' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports count: a layer rule or a cycle made of types is still a wrong direction
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
