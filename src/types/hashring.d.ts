// The subset of `hashring` (ketama-style consistent hashing) taskraft uses; the package ships no types.
declare module 'hashring' {
  export default class HashRing {
    constructor(servers: readonly string[] | Record<string, number | { vnodes: number }>, algorithm?: string, options?: Record<string, unknown>);
    /** Up to `size` distinct servers clockwise from the key's point on the ring. */
    range(key: string, size?: number, unique?: boolean): string[];
    get(key: string): string;
  }
}
