/**
 * `server.limits.maxInFlightPerClient` (issue 22): how many requests each client address has
 * forwarded to upstreams right now. Each target's pool has 256 connections; without a cap one
 * address holding slow uploads open could take them all and everyone else would wait for a
 * connection until the route's timeout (503). The map holds only addresses with a request in
 * flight, so its size is bounded by the requests in flight themselves.
 *
 * One instance outlives reloads (compileGateway hands it on): requests that started on the old
 * Gateway still count, and release into the same map when they end.
 */
export class ClientInFlight {
  readonly #counts = new Map<string, number>();

  /** Counts one more request for `clientIp`; false (nothing counted) when it already has `max`. */
  tryAcquire(clientIp: string, max: number): boolean {
    const n = this.#counts.get(clientIp) ?? 0;
    if (max > 0 && n >= max) return false;
    this.#counts.set(clientIp, n + 1);
    return true;
  }

  release(clientIp: string): void {
    const n = this.#counts.get(clientIp);
    if (n === undefined) return;
    if (n <= 1) this.#counts.delete(clientIp);
    else this.#counts.set(clientIp, n - 1);
  }

  /** Requests in flight for `clientIp` (tests, diagnostics). */
  count(clientIp: string): number {
    return this.#counts.get(clientIp) ?? 0;
  }
}
