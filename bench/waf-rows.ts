// WAF cost rows (issue 5): the passthrough route with the WAF off and in block mode, loaded with
// two typical API requests — a GET with a query string and browser-like headers, and a 2 KB JSON
// POST whose body the WAF reads before forwarding. Compare each "on" row with its "off" row:
// the WAF's cost is the drop between them (target: under 10 %). With CRS beside the repository
// (../shared/crs-4.28, or CRS_RULES_DIR), two rows more run the OWASP CRS engine (waf.crs,
// paranoia 1) on the same requests (issue 18: ≤ 10 % added CPU per request over the WAF-off row).
import type { LoadSpec } from './load.js';
import { passthroughConfig } from './passthrough-config.js';
import type { Scenario } from './row.js';
import { startPortcullis } from './start.js';
import { crsRulesDir } from './waf-eval-crs.js';

const BROWSER_HEADERS: Record<string, string> = {
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  accept: 'application/json, text/plain, */*',
  'accept-language': 'en-US,en;q=0.9',
  referer: 'https://app.example.com/orders',
  cookie: 'session=s%3AAbC123.dEf456; theme=dark; _ga=GA1.2.1234567.1716200000',
};

export const GET_QUERY: LoadSpec = {
  method: 'GET',
  path: '/api/v1/orders?status=open&limit=25&sort=-created_at&q=running%20shoes&from=2024-05-01&fields=id,total,items',
  headers: BROWSER_HEADERS,
};

/** A ~2 KB order as a shop front end would send it: names with apostrophes, prose, nested items. */
function orderBody(): string {
  const items = Array.from({ length: 8 }, (_, i) => ({
    sku: `SKU-${10440 + i}`, name: `Trail runner model ${i}`, qty: (i % 3) + 1, price: 59.9 + i,
    options: { size: `${40 + i}`, colour: i % 2 ? 'navy' : 'black' },
  }));
  const order = {
    customer: { name: "Conor O'Dwyer", email: 'conor.odwyer@example.ie', phone: '+353 1 555 0101' },
    shipping: { line1: '1 Grand Canal Sq', line2: "Dock's Building, 3rd floor", city: 'Dublin', postcode: 'D02 P820', country: 'IE' },
    notes: "Ring twice; the bell is broken. If nobody's in, leave it with the neighbour at no. 3 - thanks!",
    items,
    coupon: 'SUMMER-24', giftMessage: 'Happy birthday! Hope these make the 10k a bit easier <3',
  };
  let body = JSON.stringify(order);
  while (body.length < 2048) body = JSON.stringify({ ...order, notes: order.notes + ' Please use the side door.'.repeat(Math.ceil((2048 - body.length) / 25)) });
  return body;
}

export const POST_JSON: LoadSpec = {
  method: 'POST',
  path: '/api/v1/orders',
  headers: { ...BROWSER_HEADERS, 'content-type': 'application/json' },
  body: orderBody(),
};

export function wafScenarios(): Scenario[] {
  const crs = crsRulesDir(process.cwd(), null) ?? undefined;
  const row = (name: string, slug: string, load: LoadSpec, waf: boolean, withCrs = false): Scenario => ({
    // Loading CRS's ~700 rules takes seconds on a busy machine: a longer wait for those rows.
    name, load, start: (env) => startPortcullis(env, slug, (port) => passthroughConfig(port, env.upstreamUrl, { waf: waf ? 'block' : 'off', ...(withCrs ? { crs } : {}) }), withCrs ? 60_000 : undefined),
  });
  return [
    row('WAF off: GET with query', 'waf-off-get', GET_QUERY, false),
    row('WAF on:  GET with query', 'waf-on-get', GET_QUERY, true),
    ...(crs === undefined ? [] : [row('WAF CRS: GET with query', 'waf-crs-get', GET_QUERY, true, true)]),
    row('WAF off: 2 KB JSON POST', 'waf-off-post', POST_JSON, false),
    row('WAF on:  2 KB JSON POST', 'waf-on-post', POST_JSON, true),
    ...(crs === undefined ? [] : [row('WAF CRS: 2 KB JSON POST', 'waf-crs-post', POST_JSON, true, true)]),
  ];
}
