/** Thrown when bytes from a peer do not parse: the frame is dropped, never half-applied. */
export class MalformedFrameError extends Error {
  readonly code = 'ERR_MALFORMED_FRAME';
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });
const TWO_32 = 0x1_0000_0000;

/** A growable big-endian byte writer. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initial = 4096) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(n: number): void {
    this.ensure(1);
    this.buf[this.pos++] = n;
  }

  u16(n: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, n);
    this.pos += 2;
  }

  u32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, n);
    this.pos += 4;
  }

  /** Integers up to 2^53 (log indexes and terms). */
  u64(n: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(n / TWO_32));
    this.view.setUint32(this.pos + 4, n >>> 0);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  /** A short string (node IDs, read contexts): u16 length then UTF-8. */
  str(s: string): void {
    this.ensure(2 + s.length * 3);
    const { written } = utf8.encodeInto(s, this.buf.subarray(this.pos + 2));
    if (written > 0xffff) throw new RangeError('string too long for a frame');
    this.view.setUint16(this.pos, written);
    this.pos += 2 + written;
  }

  length(): number {
    return this.pos;
  }

  /** The bytes written so far (a view; the writer must not be reused while it is in use). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** A bounds-checked big-endian reader over bytes from the network. */
export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.byteLength) {
      throw new MalformedFrameError(`frame truncated at byte ${this.pos} (needs ${n} more)`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const hi = this.view.getUint32(this.pos);
    if (hi >= 0x20_0000) throw new MalformedFrameError('integer beyond 2^53');
    const v = hi * TWO_32 + this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return v;
  }

  /** A copy, so that a retained entry does not pin the whole network buffer in memory. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  str(): string {
    const n = this.u16();
    this.need(n);
    const start = this.pos;
    this.pos += n;
    // Node IDs and read contexts are nearly always ASCII: build those directly, which is many
    // times faster than a TextDecoder call for a few bytes.
    let ascii = '';
    for (let i = start; i < start + n; i++) {
      const c = this.buf[i]!;
      if (c >= 0x80) return this.utf8(start, n);
      ascii += String.fromCharCode(c);
    }
    return ascii;
  }

  private utf8(start: number, n: number): string {
    try {
      return fromUtf8.decode(this.buf.subarray(start, start + n));
    } catch {
      throw new MalformedFrameError('invalid UTF-8 in frame');
    }
  }

  done(): boolean {
    return this.pos === this.buf.byteLength;
  }
}
