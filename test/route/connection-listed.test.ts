/**
 * connectionListed (route/sanitise.ts): the fast path for the values nearly every peer sends
 * must answer what the general parse answers.
 */
import t from 'tap';
import { connectionListed } from '../../src/route/sanitise.js';

void t.test('keep-alive and close list nothing, in any spelling', async (t) => {
  for (const v of ['keep-alive', 'close', 'Keep-Alive', 'CLOSE', ' keep-alive ', 'keep-alive, close', '', undefined]) {
    t.equal(connectionListed(v), null, JSON.stringify(v));
  }
});

void t.test('other names are listed, lowercased; the ones that would change the request are not', async (t) => {
  t.same([...(connectionListed('keep-alive, X-Debug') ?? [])], ['x-debug']);
  t.same([...(connectionListed('close, TE, x-a,x-b') ?? [])].sort(), ['te', 'x-a', 'x-b']);
  t.equal(connectionListed('keep-alive, Authorization, Host, Content-Length, content-type'), null);
});
