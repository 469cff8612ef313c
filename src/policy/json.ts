/**
 * Canonical JSON for CI: object keys sorted at every depth, two-space indent, a final newline.
 * Arrays keep their order — each array of the report is already in a defined order (routes in
 * match order, the rest sorted) — so the same config gives the same bytes on every run.
 */
import { cmp } from './compare.js';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort(cmp)) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}
