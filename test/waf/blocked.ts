/** What every WAF block through the in-process gateway must look like, built-in rules or CRS alike. */
import type { Test } from 'tap';
import type { RecordingUpstream } from '../helpers/upstream.js';
import { eventually, type TestGateway } from '../helpers/gateway.js';

/**
 * `res` was blocked on route `api`: 403 with the bare forbidden body (no rule text), the upstream
 * not asked since it had `before` requests, and an access-log line saying so. Returns that line.
 */
export async function blockedOnApi(
  t: Test, gw: TestGateway, up: RecordingUpstream, before: number,
  res: { readonly status: number; readonly headers: Record<string, unknown>; readonly text: string },
): Promise<Record<string, unknown>> {
  t.equal(res.status, 403);
  t.same(JSON.parse(res.text), { error: 'forbidden', requestId: res.headers['x-request-id'] }, 'no rule text in the answer');
  t.equal(up.received.length, before, 'upstream never hit');
  t.ok(await eventually(() => gw.access().some((l) => l['requestId'] === res.headers['x-request-id'])));
  const line = gw.access().find((l) => l['requestId'] === res.headers['x-request-id'])!;
  t.same([line['status'], line['decision'], line['route']], [403, 'waf_blocked', 'api']);
  return line;
}
