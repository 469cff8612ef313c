/**
 * Semantic rules of `waf` the JSON Schema cannot express (STYLE §4, second pass): exclusions
 * name routes and rule ids that exist. Like config/semantic.ts it reads the document
 * defensively: values of the wrong type were reported by the schema pass already.
 */
import type { PathSegment } from '../config/messages.js';
import { RULES_BY_ID } from './rules/index.js';

type Obj = Record<string, unknown>;
type Report = (path: readonly PathSegment[], message: string) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkWafConfig(doc: Obj, report: Report): void {
  if (!isObj(doc.waf) || !Array.isArray(doc.waf.exclusions)) return;
  // The built-in rules' exclusions name built-in ids and targets; CRS is tuned in its own syntax.
  if (isObj(doc.waf.crs) && doc.waf.exclusions.length > 0) {
    report(['waf', 'exclusions'], 'applies to the built-in rules; with waf.crs, tune CRS with waf.crs.exclusions (files of CRS exclusion rules, docs/waf.md)');
    return;
  }
  const routes = new Set<string>();
  if (Array.isArray(doc.routes)) for (const r of doc.routes) if (isObj(r) && typeof r.name === 'string') routes.add(r.name);
  doc.waf.exclusions.forEach((e, i) => {
    if (!isObj(e)) return;
    const at = (...rest: PathSegment[]): PathSegment[] => ['waf', 'exclusions', i, ...rest];
    if (typeof e.route === 'string' && !routes.has(e.route)) report(at('route'), `unknown route "${e.route}"`);
    if (Array.isArray(e.rules)) {
      e.rules.forEach((id, j) => {
        if (typeof id === 'number' && Number.isInteger(id) && id >= 900000 && id <= 999999 && !RULES_BY_ID.has(id)) {
          report(at('rules', j), `unknown WAF rule ${id} (docs/waf.md lists the rules)`);
        }
      });
    }
  });
}
