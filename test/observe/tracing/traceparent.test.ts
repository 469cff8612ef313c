/**
 * W3C traceparent parsing and the forwarded headers (observe/tracing/traceparent.ts): what the
 * gateway believes of a trusted peer's header, and that its own replaces any the client sent.
 */
import t from 'tap';
import { formatTraceparent, parseTraceparent, replaceTraceHeaders } from '../../../src/observe/tracing/traceparent.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

void t.test('a valid traceparent names its parent and sampled flag', async (t) => {
  t.same(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, sampled: true });
  t.same(parseTraceparent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, sampled: false });
  // A later version may append fields (W3C §3.2.4); we read the first four.
  t.same(parseTraceparent(`01-${TRACE}-${SPAN}-03-whatever`), { traceId: TRACE, spanId: SPAN, sampled: true });
});

void t.test('anything malformed is no parent at all', async (t) => {
  const bad = [
    undefined, '', 'garbage',
    `ff-${TRACE}-${SPAN}-01`, // version ff is forbidden
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 has exactly four fields
    `00-${'0'.repeat(32)}-${SPAN}-01`, // all-zero trace id
    `00-${TRACE}-${'0'.repeat(16)}-01`, // all-zero parent id
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // uppercase hex
    `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01`, // two headers joined by Node
    `00-${TRACE.slice(1)}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-01` + 'x'.repeat(600),
  ];
  for (const v of bad) t.equal(parseTraceparent(v), null, String(v).slice(0, 80));
});

void t.test('ours replaces every client copy, in any case, and keeps the other headers in order', async (t) => {
  const headers = ['Host', 'a', 'TraceParent', 'client-1', 'x-one', '1', 'tracestate', 'evil=1', 'traceparent', 'client-2', 'x-two', '2'];
  const ours = formatTraceparent(TRACE, SPAN, true);
  replaceTraceHeaders(headers, ours, null);
  t.same(headers, ['Host', 'a', 'x-one', '1', 'x-two', '2', 'traceparent', ours]);
  const withState = ['x', '1'];
  replaceTraceHeaders(withState, formatTraceparent(TRACE, SPAN, false), 'vendor=abc');
  t.same(withState, ['x', '1', 'traceparent', `00-${TRACE}-${SPAN}-00`, 'tracestate', 'vendor=abc']);
});
