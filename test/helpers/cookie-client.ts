/**
 * A scripted browser for the sign-in tests that need no real one: real HTTP requests (undici) with
 * a cookie jar per host:port (RFC 6265 §5.3 storage, Max-Age=0 deletes; enough for loopback
 * servers on different ports), the headers a browser's navigation sends, and manual redirect
 * following so a test sees every hop. The real browser (playwright-core + chromium) is in
 * test/session/browser.test.ts.
 */
import { request } from 'undici';

export interface Hop {
  readonly url: string;
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly setCookies: string[];
  readonly body: string;
  readonly location: string | null;
}

export const NAVIGATE = Object.freeze({ accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'sec-fetch-mode': 'navigate' });

export class CookieClient {
  readonly jar = new Map<string, Map<string, string>>();

  cookies(origin: string): Map<string, string> {
    const host = new URL(origin).host;
    let c = this.jar.get(host);
    if (c === undefined) this.jar.set(host, (c = new Map()));
    return c;
  }

  async send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Hop> {
    const u = new URL(url);
    const jar = this.cookies(url);
    const headers: Record<string, string> = { ...NAVIGATE, ...init.headers };
    if (jar.size > 0 && headers['cookie'] === undefined) headers['cookie'] = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await request(u, { method: (init.method ?? 'GET') as 'GET', headers, body: init.body, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const body = await res.body.text();
    const raw = res.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const sc of setCookies) {
      const [pair] = sc.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/;\s*max-age=0/i.test(sc) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const loc = res.headers['location'];
    const location = typeof loc === 'string' ? new URL(loc, u).href : null;
    return { url, status: res.statusCode, headers: res.headers, setCookies, body, location };
  }

  /** GET `url` and follow redirects (at most `maxHops`); every hop, last one last. */
  async follow(url: string, maxHops = 12, headers: Record<string, string> = {}): Promise<Hop[]> {
    const hops: Hop[] = [];
    let next: string | null = url;
    while (next !== null && hops.length < maxHops) {
      const hop = await this.send(next, { headers });
      hops.push(hop);
      next = hop.status >= 300 && hop.status < 400 ? hop.location : null;
    }
    return hops;
  }
}
