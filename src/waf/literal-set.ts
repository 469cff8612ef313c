/**
 * Lower-case ASCII literals searched for in one pass (Aho–Corasick, with the transition table
 * filled in so each character costs one array read), answering "which groups have a literal
 * that occurs": the rules' required-literal sets (required-literals.ts), one group per set.
 * Built once per rule set at config load; the search folds ASCII case as it reads, so it needs
 * no lower-cased copy of the value.
 *
 * Why not one regex alternation (`etc\/|proc\/|…`): irregexp tries every alternative at every
 * position of the value, about 0.2–0.3 µs on a 20-character value with ~150 literals, and an API
 * body has a hundred such values. This costs a few ns per character whatever the literal count.
 */

/** scanSkeleton() saw whitespace other than single spaces (something for a form to collapse). */
export const SAW_WHITESPACE_RUN = 1;
/** scanSkeleton() saw a character the skeleton drops (`'` `"` `^`: something for the shell form to remove). */
export const SAW_DROPPED = 2;

/** Characters the automaton distinguishes; any other character (and all non-ASCII) is class 0. */
const ASCII = 128;

/** The automaton: a dense transition table over character classes. */
interface Automaton {
  /** ASCII code → character class (A–Z share the class of a–z). */
  readonly classOf: Uint8Array;
  /** Number of character classes, the row width of `next`. */
  readonly width: number;
  /** next[state * width + class] → the next state. */
  readonly next: Int32Array;
  /** The states in breadth-first order (each after its failure state), the root first. */
  readonly order: Int32Array;
  /** The failure link of each state (the longest proper suffix that is a trie state). */
  readonly fail: Int32Array;
}

function build(literals: readonly string[]): Automaton {
  const classOf = new Uint8Array(ASCII);
  let classes = 1;
  for (const w of literals) {
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      if (c >= ASCII || (c >= 0x41 && c <= 0x5a)) throw new Error(`literal ${JSON.stringify(w)} must be lower-case ASCII`);
      if (classOf[c] === 0) classOf[c] = classes++;
    }
  }
  for (let c = 0x41; c <= 0x5a; c++) classOf[c] = classOf[c | 0x20]!;
  const width = classes;
  // The trie: go[state][class] (-1: none).
  const go: Int32Array[] = [new Int32Array(width).fill(-1)];
  for (const w of literals) {
    let s = 0;
    for (let i = 0; i < w.length; i++) {
      const k = classOf[w.charCodeAt(i)]!;
      let t = go[s]![k]!;
      if (t < 0) {
        t = go.length;
        go.push(new Int32Array(width).fill(-1));
        go[s]![k] = t;
      }
      s = t;
    }
  }
  // Breadth-first from the root: failure links, and the full transition table from them.
  const states = go.length;
  const next = new Int32Array(states * width);
  const fail = new Int32Array(states);
  const order = new Int32Array(states);
  let tail = 1; // order[0] is the root
  for (let k = 0; k < width; k++) {
    const t = go[0]![k]!;
    if (t > 0) {
      next[k] = t;
      order[tail++] = t;
    }
  }
  for (let q = 1; q < tail; q++) {
    const s = order[q]!;
    for (let k = 0; k < width; k++) {
      const t = go[s]![k]!;
      if (t > 0) {
        fail[t] = next[fail[s]! * width + k]!;
        next[s * width + k] = t;
        order[tail++] = t;
      } else {
        next[s * width + k] = next[fail[s]! * width + k]!;
      }
    }
  }
  return { classOf, width, next, order, fail };
}

/**
 * Groups of literals searched for together: scan(s) sets bit g of a bit set for every group g
 * with a literal in `s`. Each accepting state carries the bit set of the groups that end there
 * (through its failure chain too), so a hit costs a few word ORs and a miss nothing.
 */
export class LiteralGroups {
  /** Words of a group bit set: ceil(groups / 32). */
  readonly words: number;
  readonly #classOf: Uint8Array;
  /**
   * One row per state, `stride` slots: slot 0 the offset in #bits of the state's groups (0:
   * none; there, a count and that many word index + bits pairs), slot 1 + class the offset of the next state's row. Offsets rather than state
   * numbers spare the multiplication on the per-character dependency chain, and a state's
   * output sits beside its transitions.
   */
  readonly #rows: Int32Array;
  readonly #bits: Uint32Array;

  constructor(groups: readonly (readonly string[])[]) {
    const literals: string[] = [];
    const groupOf: number[] = [];
    groups.forEach((g, gi) => {
      for (const w of g) {
        literals.push(w);
        groupOf.push(gi);
      }
    });
    const words = Math.max(1, Math.ceil(groups.length / 32));
    const a = build(literals);
    // Per state, the groups of every literal ending there or at a state on its failure chain.
    const states = a.order.length;
    const own = new Uint32Array(states * words);
    literals.forEach((w, li) => {
      let s = 0;
      for (let i = 0; i < w.length; i++) s = a.next[s * a.width + a.classOf[w.charCodeAt(i)]!]!;
      own[s * words + (groupOf[li]! >>> 5)]! |= 1 << (groupOf[li]! & 31);
    });
    const stride = a.width + 1;
    const rows = new Int32Array(states * stride);
    // Per output state, its non-zero words only: [count, word, bits, word, bits …].
    const bits: number[] = [0]; // offset 0 means "none"
    for (const s of a.order) {
      for (let k = 0; k < a.width; k++) rows[s * stride + 1 + k] = a.next[s * a.width + k]! * stride;
      if (s === 0) continue;
      const nonZero: number[] = [];
      for (let w = 0; w < words; w++) {
        own[s * words + w]! |= own[a.fail[s]! * words + w]!;
        if (own[s * words + w]! !== 0) nonZero.push(w, own[s * words + w]!);
      }
      if (nonZero.length === 0) continue;
      rows[s * stride] = bits.length;
      bits.push(nonZero.length / 2, ...nonZero);
    }
    this.words = words;
    this.#classOf = a.classOf;
    this.#rows = rows;
    this.#bits = Uint32Array.from(bits);
  }

  /** ORs into `found` (this.words long) the groups that have a literal in `s`, ASCII case ignored. */
  scan(s: string, found: Uint32Array): void {
    const classOf = this.#classOf;
    const rows = this.#rows;
    const bits = this.#bits;
    let row = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      row = rows[row + 1 + (c < ASCII ? classOf[c]! : 0)]!;
      const o = rows[row]!;
      if (o !== 0) for (let k = o + 1, end = o + 1 + 2 * bits[o]!; k < end; k += 2) found[bits[k]!]! |= bits[k + 1]!;
    }
  }

  /**
   * What the last scanSkeleton() saw on the way (SAW_* bits), which spares the forms work.
   * Scratch state: scanning is synchronous.
   */
  saw = 0;

  /**
   * scan() of the skeleton of `s` (skeleton.ts) without building it: `'` `"` `^` skipped, a run
   * of characters ≤ U+0020 read as one space, of `/` as one `/`, of dots as at most two. The
   * literals must be skeletons themselves. Returns the OR of `classes[c]` over every character
   * of `s` (non-ASCII: `nonAscii`): the value's chars.ts mask, in the same pass.
   */
  scanSkeleton(s: string, found: Uint32Array, classes: Int32Array, nonAscii: number): number {
    const classOf = this.#classOf;
    const rows = this.#rows;
    const bits = this.#bits;
    let row = 0;
    let last = 0; // the last two characters of the skeleton read so far
    let beforeLast = 0;
    let saw = 0;
    let mask = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < ASCII) mask |= classes[c]!;
      else mask |= nonAscii;
      if (c <= 0x20) {
        if (last === 0x20 || c !== 0x20) saw |= SAW_WHITESPACE_RUN;
        if (last === 0x20) continue;
        c = 0x20;
      } else if (c === 0x27 || c === 0x22 || c === 0x5e) { // skeleton.ts droppedFromSkeleton
        saw |= SAW_DROPPED;
        continue;
      } else if ((c === 0x2f && last === 0x2f) || (c === 0x2e && last === 0x2e && beforeLast === 0x2e)) {
        continue;
      }
      beforeLast = last;
      last = c;
      row = rows[row + 1 + (c < ASCII ? classOf[c]! : 0)]!;
      const o = rows[row]!;
      if (o !== 0) for (let k = o + 1, end = o + 1 + 2 * bits[o]!; k < end; k += 2) found[bits[k]!]! |= bits[k + 1]!;
    }
    this.saw = saw;
    return mask;
  }
}
