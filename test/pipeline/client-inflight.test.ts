/**
 * ClientInFlight (server.limits.maxInFlightPerClient): counts per address, refuses at the cap
 * without counting the refusal, forgets an address once its last request ends, 0 = no cap.
 */
import t from 'tap';
import { ClientInFlight } from '../../src/pipeline/client-inflight.js';

void t.test('counts per address up to the cap, and frees a slot on release', async (t) => {
  const c = new ClientInFlight();
  t.ok(c.tryAcquire('10.0.0.1', 2));
  t.ok(c.tryAcquire('10.0.0.1', 2));
  t.notOk(c.tryAcquire('10.0.0.1', 2), 'the third is refused');
  t.equal(c.count('10.0.0.1'), 2, 'a refusal is not counted');
  t.ok(c.tryAcquire('10.0.0.2', 2), 'another address has its own count');
  c.release('10.0.0.1');
  t.ok(c.tryAcquire('10.0.0.1', 2), 'a released slot can be taken again');
});

void t.test('an address leaves the map with its last request; 0 means no cap', async (t) => {
  const c = new ClientInFlight();
  t.ok(c.tryAcquire('::1', 1));
  c.release('::1');
  c.release('::1'); // a second release of nothing does not go negative
  t.equal(c.count('::1'), 0);
  t.ok(c.tryAcquire('::1', 1), 'the count starts from zero again');
  let refused = 0;
  for (let i = 0; i < 1_000; i++) if (!c.tryAcquire('192.0.2.1', 0)) refused++;
  t.equal(refused, 0, 'max 0: never refused');
  t.equal(c.count('192.0.2.1'), 1_000);
});
