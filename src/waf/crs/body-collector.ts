/**
 * The built-in WAF's multipart scanner (multipart.ts) feeds a RuleSet value by value. The CRS
 * engine wants the same values as named arguments, so it hands those scanners a RuleSet
 * with no rules whose `inspect` collects instead of matching: one multipart parser
 * for both engines, reused through its existing interface and untouched.
 */
import { RuleSet, Scan } from '../engine.js';
import type { Source } from '../exclusions.js';
import { boundaryOf, scanMultipart } from '../multipart.js';
import { T_FILENAME, T_FORM, T_NAME } from '../rule.js';

export interface BodyArg {
  readonly name: string;
  readonly value: string;
}

class Collector extends RuleSet {
  args: BodyArg[] = [];
  files: BodyArg[] = [];

  constructor() {
    super(1, []);
  }

  /**
   * The field whose file name was just read: its content, which multipart.ts inspects next, is
   * an uploaded file's, and ModSecurity keeps file content out of ARGS (it goes to a temporary
   * file, FILES_TMP_CONTENT, which CRS 4's request rules do not read).
   */
  #fileField: string | null = null;

  override inspect(_scan: Scan, bits: number, value: string, _source: Source, name: string, nameSuffix: string | null = null): void {
    if ((bits & T_NAME) !== 0) {
      this.#fileField = null; // names are the entries' keys; a name starts a new part
      return;
    }
    const full = nameSuffix === null ? name : name === '' ? nameSuffix : `${name}.${nameSuffix}`;
    if ((bits & T_FILENAME) !== 0) {
      this.files.push({ name: full, value });
      this.#fileField = full;
    } else if ((bits & T_FORM) !== 0 && this.#fileField === full) this.#fileField = null;
    else this.args.push({ name: full, value });
  }
}

/**
 * A multipart body's text fields into `args`, file names into `files`, and each part's header
 * lines to `header(partName, line)` (MULTIPART_PART_HEADERS).
 */
export function scanMultipartInto(text: string, contentType: string, args: BodyArg[], files: BodyArg[], header: (name: string, line: string) => void): void {
  const boundary = boundaryOf(contentType);
  if (boundary === null) return;
  const c = new Collector();
  scanMultipart(c, new Scan(), text, boundary);
  args.push(...c.args);
  files.push(...c.files);
  for (const part of text.split('--' + boundary).slice(1, 257)) {
    const end = part.search(/\r?\n\r?\n/);
    if (end < 0) continue;
    const lines = part.slice(0, end).split(/\r?\n/).filter((l) => l !== '');
    const name = /name="?([^";]*)/i.exec(lines.find((l) => /^content-disposition:/i.test(l)) ?? '')?.[1] ?? '';
    for (const l of lines) header(name, l);
  }
}
