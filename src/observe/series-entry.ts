/**
 * One label combination of a prom-client counter or histogram, bumped without prom-client's
 * per-call label work (request-metrics.ts). prom-client 15 keeps each series as a record in the
 * metric's `hashMap`, keyed by `name:value,` over the sorted label names; its inc/observe rebuild
 * that key, validate the labels and allocate on every call. Here the key is built once and the
 * record is fetched by it on each call (one property read: reset() or remove() replacing or
 * dropping the record is seen at once), then changed exactly as prom-client changes it. The
 * records are created by prom-client itself (the first inc/observe of a combination goes through
 * its API), so their shape is its own; test/observe/request-metrics.test.ts holds the exposition to plain labels(…) calls.
 */
import type { Counter, Histogram } from 'prom-client';

interface CounterRecord { value: number }
interface HistogramRecord { bucketValues: Record<string, number>; sum: number; count: number }

/** What prom-client's metric objects carry besides their typed API. */
interface Internals<R> {
  readonly hashMap: Record<string, R | undefined>;
  readonly sortedLabelNames: readonly string[];
}

/**
 * The internals when they have the shape this file was written against, else undefined: a
 * prom-client release that stores series differently then costs the per-call label work again
 * (every call goes through its public API) instead of counting into the wrong place.
 */
function internalsOf<R>(metric: object): Internals<R> | undefined {
  const m = metric as Partial<Internals<R>>;
  return typeof m.hashMap === 'object' && m.hashMap !== null && Array.isArray(m.sortedLabelNames) ? (m as Internals<R>) : undefined;
}

/** prom-client's hashObject(labels, sortedLabelNames): the series' key in `hashMap`. */
function seriesKey(sortedLabelNames: readonly string[], labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const name of sortedLabelNames) key += name + ':' + labels[name] + ',';
  return key;
}

export class CounterSeries {
  readonly #counter: Counter<string>;
  readonly #internals: Internals<CounterRecord> | undefined;
  readonly #labels: Readonly<Record<string, string>>;
  readonly #key: string;

  constructor(counter: Counter<string>, labels: Readonly<Record<string, string>>) {
    this.#counter = counter;
    this.#internals = internalsOf<CounterRecord>(counter);
    this.#labels = labels;
    this.#key = this.#internals ? seriesKey(this.#internals.sortedLabelNames, labels) : '';
  }

  inc(): void {
    const record = this.#internals?.hashMap[this.#key];
    // absent before the first request and after reset(): prom-client creates it, with its validation
    if (record === undefined) this.#counter.inc(this.#labels, 1);
    else record.value += 1;
  }
}

export class HistogramSeries {
  readonly #histogram: Histogram<string>;
  readonly #internals: Internals<HistogramRecord> | undefined;
  readonly #labels: Readonly<Record<string, string>>;
  readonly #key: string;
  /** Upper bounds ascending, and the same as the string keys of a record's bucketValues. */
  readonly #bounds: readonly number[];
  readonly #bucketKeys: readonly string[];

  constructor(histogram: Histogram<string>, labels: Readonly<Record<string, string>>) {
    this.#histogram = histogram;
    const upperBounds = (histogram as unknown as { readonly upperBounds?: unknown }).upperBounds;
    this.#internals = Array.isArray(upperBounds) ? internalsOf<HistogramRecord>(histogram) : undefined;
    this.#labels = labels;
    this.#key = this.#internals ? seriesKey(this.#internals.sortedLabelNames, labels) : '';
    this.#bounds = this.#internals ? (upperBounds as readonly number[]) : [];
    this.#bucketKeys = this.#bounds.map(String);
  }

  observe(value: number): void {
    const record = this.#internals?.hashMap[this.#key];
    if (record === undefined) {
      this.#histogram.observe(this.#labels, value);
      return;
    }
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    record.sum += value;
    record.count += 1;
    const bounds = this.#bounds;
    // above the last bound only +Inf (the count) grows, as in prom-client
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        record.bucketValues[this.#bucketKeys[i]!]! += 1;
        return;
      }
    }
  }
}
