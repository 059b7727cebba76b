// Byte streams inside a guest. Content is a list of chunks so that endless or huge output
// (`yes`, /dev/zero, a 2 MiB library) costs nothing until someone reads a bounded slice of it.
// Strings are binary strings: one char per byte (0..255), as Perl hands bytes to its JSON encoder.

type Chunk =
  | { s: string }
  /** `rep` repeated (and cut) to `len` bytes; `len` may be Infinity. */
  | { rep: string; len: number }
  /** Deterministic pseudo-random bytes: byte i is noise(seed, at + i). */
  | { seed: number; at: number; len: number }
  /** Generated text of equally long lines: byte i is line(⌊(at+i)/width⌋)[(at+i) mod width]. */
  | { line: (n: number) => string; width: number; at: number; len: number };

/** A chunk as stored: no generator functions, no Infinity. */
export type SavedChunk =
  | { s: string }
  | { rep: string; len: number }
  | { seed: number; at: number; len: number };

const chunkLen = (c: Chunk) => ("s" in c ? c.s.length : c.len);

function noiseByte(seed: number, i: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i, 0xc2b2ae35)) | 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h & 0xff;
}

function chunkSlice(c: Chunk, start: number, end: number): Chunk {
  if ("s" in c) return { s: c.s.slice(start, end) };
  if ("rep" in c) {
    const off = start % c.rep.length;
    return { rep: off === 0 ? c.rep : c.rep.slice(off) + c.rep.slice(0, off), len: end - start };
  }
  return { ...c, at: c.at + start, len: end - start };
}

function chunkText(c: Chunk, max: number): string {
  if ("s" in c) return c.s.slice(0, max);
  const n = Math.min(c.len, max);
  if ("rep" in c) return c.rep.repeat(Math.ceil(n / c.rep.length)).slice(0, n);
  if ("line" in c) {
    const first = Math.floor(c.at / c.width);
    const last = Math.floor((c.at + n - 1) / c.width);
    let text = "";
    for (let k = first; k <= last; k++) text += c.line(k);
    const skip = c.at - first * c.width;
    return text.slice(skip, skip + n);
  }
  let out = "";
  for (let i = 0; i < n; i += 8192) {
    const part: number[] = [];
    for (let j = i; j < Math.min(n, i + 8192); j++) part.push(noiseByte(c.seed, c.at + j));
    out += String.fromCharCode(...part);
  }
  return out;
}

export class Bytes {
  readonly length: number;

  private constructor(readonly chunks: readonly Chunk[]) {
    this.length = chunks.reduce((n, c) => n + chunkLen(c), 0);
  }

  static readonly empty = new Bytes([]);

  static of(s: string): Bytes {
    return s ? new Bytes([{ s }]) : Bytes.empty;
  }

  /** `unit` over and over, `len` bytes long (Infinity: endless). */
  static repeat(unit: string, len = Number.POSITIVE_INFINITY): Bytes {
    return unit && len > 0 ? new Bytes([{ rep: unit, len }]) : Bytes.empty;
  }

  /** `len` bytes of deterministic noise (binaries, /dev/urandom). */
  static noise(seed: number, len: number): Bytes {
    return len > 0 ? new Bytes([{ seed, at: 0, len }]) : Bytes.empty;
  }

  /** `count` generated lines, each exactly `width` bytes including its newline. */
  static lines(count: number, width: number, line: (n: number) => string): Bytes {
    return count > 0 ? new Bytes([{ line, width, at: 0, len: count * width }]) : Bytes.empty;
  }

  static concat(...parts: Bytes[]): Bytes {
    const chunks: Chunk[] = [];
    for (const p of parts) {
      for (const c of p.chunks) {
        const last = chunks[chunks.length - 1];
        if (last && "s" in last && "s" in c && last.s.length + c.s.length < 1 << 20) {
          chunks[chunks.length - 1] = { s: last.s + c.s };
        } else if (chunkLen(c) > 0) chunks.push(c);
      }
      if (!Number.isFinite(p.length)) break;
    }
    return new Bytes(chunks);
  }

  /**
   * A plain-data form that keeps the length and the first `keep` bytes exactly: generated lines
   * become text, and what lies beyond `keep` becomes filler of the same length (nobody reads it).
   * Infinity is written as -1 (JSON has no Infinity).
   */
  toData(keep: number): SavedChunk[] {
    const out: SavedChunk[] = [];
    let pos = 0;
    for (const c of this.chunks) {
      const len = chunkLen(c);
      const wanted = Math.max(0, Math.min(len, keep - pos));
      if (wanted < len && !("s" in c)) {
        if (wanted > 0) out.push({ s: chunkText(c, wanted) });
        out.push({ rep: " ", len: Number.isFinite(len - wanted) ? len - wanted : -1 });
      } else if ("line" in c) out.push({ s: chunkText(c, len) });
      else if ("rep" in c) out.push({ rep: c.rep, len: Number.isFinite(c.len) ? c.len : -1 });
      else out.push(c as SavedChunk);
      pos += len;
      if (!Number.isFinite(pos)) break;
    }
    return out;
  }

  static fromData(chunks: SavedChunk[]): Bytes {
    return new Bytes(
      chunks.map(
        (c): Chunk => ("rep" in c && c.len === -1 ? { rep: c.rep, len: Number.POSITIVE_INFINITY } : c),
      ),
    );
  }

  get endless(): boolean {
    return !Number.isFinite(this.length);
  }

  slice(start: number, end = this.length): Bytes {
    const from = Math.max(0, Math.min(start, this.length));
    const to = Math.max(from, Math.min(end, this.length));
    const out: Chunk[] = [];
    let pos = 0;
    for (const c of this.chunks) {
      const len = chunkLen(c);
      const a = Math.max(from, pos);
      const b = Math.min(to, pos + len);
      if (a < b) out.push(chunkSlice(c, a - pos, b - pos));
      pos += len;
      if (pos >= to) break;
    }
    return new Bytes(out);
  }

  /** The bytes as a binary string, at most `max` of them. */
  text(max = this.length): string {
    let out = "";
    let left = Math.min(max, this.length);
    for (const c of this.chunks) {
      if (left <= 0) break;
      const t = chunkText(c, left);
      out += t;
      left -= t.length;
    }
    return out;
  }

  /** Offset just past the n-th newline, or -1 when there are fewer (searching at most `limit` bytes). */
  afterLines(n: number, limit = 64 << 20): number {
    if (n <= 0) return 0;
    let pos = 0;
    let seen = 0;
    for (const c of this.chunks) {
      const len = chunkLen(c);
      if ("rep" in c) {
        const per = c.rep.split("\n").length - 1;
        if (per > 0 && Number.isFinite(n)) {
          // Skip whole repetitions arithmetically, then walk the rest.
          const fullReps = Math.floor(len / c.rep.length);
          const need = n - seen;
          const skip = Math.min(fullReps, Math.max(0, Math.floor((need - 1) / per)));
          seen += skip * per;
          const rest = chunkText(
            chunkSlice(c, skip * c.rep.length, Math.min(len, (skip + 2) * c.rep.length)),
            2 * c.rep.length,
          );
          for (let i = 0; i < rest.length; i++) {
            if (rest.charCodeAt(i) === 10 && ++seen === n) return pos + skip * c.rep.length + i + 1;
          }
          pos += len;
          continue;
        }
      }
      const t = chunkText(c, Math.min(len, limit - pos));
      for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 10 && ++seen === n) return pos + i + 1;
      pos += len;
      if (pos >= limit) return -1;
    }
    return -1;
  }

  /** Number of newlines (Infinity for endless content that has any). */
  lineCount(): number {
    let n = 0;
    for (const c of this.chunks) {
      if ("rep" in c) {
        const per = c.rep.split("\n").length - 1;
        if (!Number.isFinite(c.len)) {
          if (per > 0) return Number.POSITIVE_INFINITY;
          continue;
        }
        const full = Math.floor(c.len / c.rep.length);
        n += full * per + (c.rep.slice(0, c.len - full * c.rep.length).split("\n").length - 1);
      } else {
        const t = chunkText(c, chunkLen(c));
        for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 10) n++;
      }
    }
    return n;
  }
}

/** UTF-8 text as a binary string (what a guest program writes for a JS string). */
export function utf8(s: string): string {
  // ASCII is the common case and needs no encoding.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a byte range test
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  const bytes = new TextEncoder().encode(s);
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** A binary string read as UTF-8 (invalid sequences become U+FFFD). */
export function fromUtf8(b: string): string {
  const bytes = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) bytes[i] = b.charCodeAt(i) & 0xff;
  return new TextDecoder().decode(bytes);
}

export function base64(b: string): string {
  let out = "";
  for (let i = 0; i < b.length; i += 3 * 8192) out += btoa(b.slice(i, i + 3 * 8192));
  return out;
}

/** QEMU qbase64_decode: newlines are ignored, anything else outside the alphabet is invalid. */
export function unbase64Strict(s: string): string | null {
  const clean = s.replace(/[\r\n]/g, "");
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return null;
  try {
    return atob(clean);
  } catch {
    return null;
  }
}
