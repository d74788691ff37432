/**
 * Cumulative counts per attribute set, kept by the gateway and read by an observable counter at
 * each metric collection. A synchronous counter would hash its attribute set (sort the keys,
 * serialise them) on every `add`; here a call walks a few map lookups on strings it already has,
 * and each attribute set is built once, the first time it is seen.
 */
import type { Attributes, ObservableResult } from '@opentelemetry/api';

interface Entry {
  readonly attributes: Attributes;
  count: number;
}

/** Counts by the values of fixed attribute names (in order), each value a low-cardinality string. */
export class Tally {
  private readonly root = new Map<string, unknown>();
  private readonly entries: Entry[] = [];

  constructor(private readonly names: readonly string[]) {}

  /** Adds 1 for the attribute set with these values; returns the set (built once, reusable). */
  add(...values: string[]): Attributes {
    let level = this.root;
    for (let i = 0; i < values.length - 1; i++) {
      const value = values[i] as string;
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const last = values[values.length - 1] as string;
    let entry = level.get(last) as Entry | undefined;
    if (!entry) {
      const attributes: Attributes = {};
      this.names.forEach((name, i) => (attributes[name] = values[i]));
      entry = { attributes, count: 0 };
      level.set(last, entry);
      this.entries.push(entry);
    }
    entry.count++;
    return entry.attributes;
  }

  /** Reports every count (an observable counter's callback). */
  readonly observe = (result: ObservableResult): void => {
    for (const entry of this.entries) result.observe(entry.count, entry.attributes);
  };
}
