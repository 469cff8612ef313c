/**
 * A string built one UTF-16 code unit at a time, for the transforms that must look back at or
 * take back what they wrote (forms.ts pathNormalise, skeleton.ts). Appending to a JS string and
 * reading its end back (`out.endsWith`, `out.charCodeAt(out.length - 1)`) flattens the string at
 * every step, which costs the square of its length (issue 22); a typed array does not. One
 * buffer per caller, reused: evaluation is synchronous.
 */

/** Code units per String.fromCharCode call: far below any engine's argument limit. */
const UNITS_PER_CALL = 8192;

export class TextBuffer {
  #units = new Uint16Array(1024);
  /** Code units written. */
  length = 0;

  /** Empties the buffer and makes room for `capacity` code units. */
  reset(capacity: number): void {
    if (this.#units.length < capacity) this.#units = new Uint16Array(Math.max(capacity, this.#units.length * 2));
    this.length = 0;
  }

  push(unit: number): void {
    if (this.length === this.#units.length) this.#grow(this.length * 2);
    this.#units[this.length++] = unit;
  }

  /** The code unit `back` places from the end (0: the last), or -1. */
  last(back = 0): number {
    const i = this.length - 1 - back;
    return i >= 0 ? this.#units[i]! : -1;
  }

  toString(): string {
    let out = '';
    for (let k = 0; k < this.length; k += UNITS_PER_CALL) {
      // apply, not a spread: a typed array is array-like, and apply skips the iterator.
      out += String.fromCharCode.apply(null, this.#units.subarray(k, Math.min(this.length, k + UNITS_PER_CALL)) as unknown as number[]);
    }
    return out;
  }

  /** Grows to `capacity`, keeping what was written. */
  #grow(capacity: number): void {
    const grown = new Uint16Array(capacity);
    grown.set(this.#units);
    this.#units = grown;
  }
}
