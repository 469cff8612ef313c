/**
 * A set of lower-case ASCII literals searched for in one pass (Aho–Corasick, with the transition
 * table filled in so each character costs one array read). Built once per rule set at config
 * load; `foundIn` folds ASCII case as it reads, so it needs no lower-cased copy of the value.
 *
 * Why not one regex alternation (`etc\/|proc\/|…`): irregexp tries every alternative at every
 * position of the value, about 0.2–0.3 µs on a 20-character value with ~150 literals, and an API
 * body has a hundred such values. This costs a few ns per character whatever the literal count.
 */

/** Characters the automaton distinguishes; any other character (and all non-ASCII) is class 0. */
const ASCII = 128;

export class LiteralSet {
  /** ASCII code → character class (A–Z share the class of a–z). */
  readonly #classOf = new Uint8Array(ASCII);
  /** Number of character classes, the row width of #next. */
  readonly #width: number;
  /** #next[state * width + class] → the next state. */
  readonly #next: Uint16Array | Uint32Array;
  /** 1 when a literal ends at this state (itself or through its failure chain). */
  readonly #accept: Uint8Array;

  constructor(literals: readonly string[]) {
    let classes = 1;
    for (const w of literals) {
      for (let i = 0; i < w.length; i++) {
        const c = w.charCodeAt(i);
        if (c >= ASCII || (c >= 0x41 && c <= 0x5a)) throw new Error(`literal ${JSON.stringify(w)} must be lower-case ASCII`);
        if (this.#classOf[c] === 0) this.#classOf[c] = classes++;
      }
    }
    for (let c = 0x41; c <= 0x5a; c++) this.#classOf[c] = this.#classOf[c | 0x20]!;
    const width = classes;
    this.#width = width;
    const { go, terminal } = trie(literals, this.#classOf, width);
    // Breadth-first from the root: failure links, and the full transition table from them.
    const states = go.length;
    // 16-bit states when they fit: half the table, more of it in cache.
    const next = states < 0x10000 ? new Uint16Array(states * width) : new Uint32Array(states * width);
    const accept = new Uint8Array(states);
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (let k = 0; k < width; k++) {
      const t = go[0]![k]!;
      if (t > 0) {
        next[k] = t;
        queue.push(t);
      }
    }
    accept[0] = terminal[0]!;
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      accept[s] = terminal[s]! | accept[fail[s]!]!;
      for (let k = 0; k < width; k++) {
        const t = go[s]![k]!;
        if (t > 0) {
          fail[t] = next[fail[s]! * width + k]!;
          next[s * width + k] = t;
          queue.push(t);
        } else {
          next[s * width + k] = next[fail[s]! * width + k]!;
        }
      }
    }
    this.#next = next;
    this.#accept = accept;
  }

  /** Does `s` contain one of the literals, ASCII case ignored? */
  foundIn(s: string): boolean {
    const classOf = this.#classOf;
    const next = this.#next;
    const accept = this.#accept;
    const width = this.#width;
    let state = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      state = next[state * width + (c < ASCII ? classOf[c]! : 0)]!;
      if (accept[state] !== 0) return true;
    }
    return false;
  }
}

/** The trie of the literals: go[state][class] (-1: none), terminal[state] 1 where a literal ends. */
function trie(literals: readonly string[], classOf: Uint8Array, width: number): { go: Int32Array[]; terminal: number[] } {
  const go: Int32Array[] = [new Int32Array(width).fill(-1)];
  const terminal: number[] = [0];
  for (const w of literals) {
    let s = 0;
    for (let i = 0; i < w.length; i++) {
      const k = classOf[w.charCodeAt(i)]!;
      let t = go[s]![k]!;
      if (t < 0) {
        t = go.length;
        go.push(new Int32Array(width).fill(-1));
        terminal.push(0);
        go[s]![k] = t;
      }
      s = t;
    }
    if (s > 0) terminal[s] = 1;
  }
  return { go, terminal };
}
