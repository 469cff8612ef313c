/**
 * The edge shape (PRODUCT's "edge proxy / sidecar"): what the http and https listeners serve —
 * requests forwarded through the pipeline (handler.ts), WebSocket upgrades (websocket.ts), and,
 * on a plain listener with `redirectToHttps`, the 308 to HTTPS instead (https-redirect.ts).
 */
import type { Shape } from '../server/listener.js';
import { EdgeHandler } from './handler.js';
import { HttpsRedirect } from './https-redirect.js';
import { WebSocketHandler } from './websocket.js';

export const edgeShape: Shape = (holder, side) => {
  const edge = new EdgeHandler(holder, side.proto);
  const ws = new WebSocketHandler(holder, side.proto, side.hsts);
  if (side.redirectPort === null) return { onRequest: edge.onRequest, onGone: (req, res) => edge.onGone(req, res), onUpgrade: ws.onUpgrade };
  const redirect = new HttpsRedirect(holder, edge, ws, side.redirectPort);
  return { onRequest: redirect.onRequest, onUpgrade: redirect.onUpgrade };
};
