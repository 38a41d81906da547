import { entryPayloadSize, type Entry } from './types.js';

/** The longest prefix of `ents` within maxBytes, but never empty when `ents` is not: a single
 * entry larger than the cap must still be able to make progress. */
export function limitEntriesSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entryPayloadSize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entryPayloadSize(ents[n]!);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}
