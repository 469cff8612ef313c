/**
 * A SecRule/SecAction action list, `id:942100,phase:2,t:none,setvar:'tx.x=+%{tx.y}',msg:'…'`:
 * split on commas outside single quotes, each item `name` or `name:value` (the value's own
 * colons kept, its single quotes removed).
 */

export interface RawAction {
  readonly name: string;
  readonly value: string | null;
}

/** null with the reason when the list is malformed (the caller names the file and line). */
export function splitActions(text: string): RawAction[] | string {
  const out: RawAction[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /[\s,]/.test(text[i]!)) i++;
    if (i >= n) break;
    let name = '';
    while (i < n && text[i] !== ':' && text[i] !== ',') name += text[i++];
    name = name.trim();
    if (name === '') return `empty action name at offset ${i}`;
    if (i >= n || text[i] === ',') {
      out.push({ name: name.toLowerCase(), value: null });
      continue;
    }
    i++; // ':'
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        if (text[i] === '\\' && text[i + 1] === "'") {
          value += "'";
          i += 2;
          continue;
        }
        if (text[i] === "'") {
          closed = true;
          i++;
          break;
        }
        value += text[i++];
      }
      if (!closed) return `unterminated quote in action ${name}`;
    } else {
      while (i < n && text[i] !== ',') value += text[i++];
      value = value.trim();
    }
    out.push({ name: name.toLowerCase(), value });
  }
  return out;
}
