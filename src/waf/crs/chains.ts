/**
 * The transformation chains of the loaded rules as a prefix tree, numbered once at load: chain
 * `urlDecodeUni,htmlEntityDecode,lowercase` is node 2 whose parent (`urlDecodeUni,htmlEntityDecode`)
 * is node 1, whose parent is node 0 (`urlDecodeUni`). A value's forms in one request are an array
 * indexed by node (transaction.ts ValueForms), so `t:urlDecodeUni` runs once per value per request
 * however many rules and chains start with it, and no string key is built or hashed per lookup.
 */
import type { CrsRule } from './model.js';
import type { ValueForms } from './transaction.js';
import type { TransformFn } from './transforms.js';

export class ChainTable {
  /** Per node: the parent node (-1: the raw value) and the transformation applied to its result. */
  readonly #parent: number[] = [];
  readonly #fn: TransformFn[] = [];
  readonly #byKey = new Map<string, number>();

  /** Numbers `link`'s chain (every prefix too) and returns its node; -1 for no transformation. */
  add(link: CrsRule): number {
    let node = -1;
    let key = '';
    for (let i = 0; i < link.transforms.length; i++) {
      key += (i === 0 ? '' : ',') + link.transformNames[i]!;
      let next = this.#byKey.get(key);
      if (next === undefined) {
        next = this.#parent.length;
        this.#parent.push(node);
        this.#fn.push(link.transforms[i]!);
        this.#byKey.set(key, next);
      }
      node = next;
    }
    return node;
  }

  /** The value after chain `node`, computed through its cached prefixes and cached itself. */
  form(vf: ValueForms, node: number): string {
    const hit = vf.forms[node];
    if (hit !== undefined) return hit;
    const parent = this.#parent[node]!;
    const v = this.#fn[node]!(parent < 0 ? vf.value : this.form(vf, parent));
    vf.forms[node] = v;
    return v;
  }
}
