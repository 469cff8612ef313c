/**
 * Macro expansion, `%{tx.critical_anomaly_score}`, `%{MATCHED_VAR}`, `%{REQUEST_HEADERS.host}`:
 * split once at load into literal text and references, expanded per request by the
 * transaction's resolver (the first value of the variable, or '' when it has none).
 */

export interface MacroRef {
  /** Upper-cased collection or variable name (TX, MATCHED_VAR, RULE, …). */
  readonly collection: string;
  /** Lower-cased key, or null for a plain variable. */
  readonly key: string | null;
}

export type Macro = readonly (string | MacroRef)[];

export interface MacroResolver {
  macroValue(ref: MacroRef): string;
}

const MACRO = /%\{([^}]*)\}/g;

/** The parts of `text`; a text without macros is one string. */
export function parseMacro(text: string): Macro {
  if (text.indexOf('%{') < 0) return [text];
  const parts: (string | MacroRef)[] = [];
  let from = 0;
  for (const m of text.matchAll(MACRO)) {
    if (m.index > from) parts.push(text.slice(from, m.index));
    const body = m[1]!;
    const dot = body.search(/[.:]/);
    parts.push(dot < 0 ? { collection: body.toUpperCase(), key: null } : { collection: body.slice(0, dot).toUpperCase(), key: body.slice(dot + 1).toLowerCase() });
    from = m.index + m[0].length;
  }
  if (from < text.length) parts.push(text.slice(from));
  return parts;
}

export function isConstant(m: Macro): boolean {
  return m.length === 1 && typeof m[0] === 'string';
}

export function expand(m: Macro, r: MacroResolver): string {
  if (m.length === 1 && typeof m[0] === 'string') return m[0];
  let out = '';
  for (const p of m) out += typeof p === 'string' ? p : r.macroValue(p);
  return out;
}
