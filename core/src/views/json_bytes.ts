/**
 * Compact JSON straight to UTF-8 bytes, for the CLI's `--json` on large scenarios: the same text as
 * `JSON.stringify(value)` (a test holds it to that), without building the string and then encoding it. A report
 * repeats itself — a few dozen distinct call paths (frozen, shared arrays), sentences, keys — so each distinct
 * string and frozen array is encoded once and copied after. Values must be plain data (objects, arrays, strings,
 * finite or non-finite numbers, booleans, null); anything else is left to JSON.stringify.
 */

/** Bytes are handed out in chunks of about this size; each chunk is the sink's to keep (never reused). */
const CHUNK = 1 << 18;
/** Bounds on the caches: a scenario's distinct strings are few; when they are not, the cache starts over. */
const MAX_CACHED = 20_000;
const MAX_CACHED_LENGTH = 256;

export class JsonByteWriter {
  private buf: Uint8Array;
  private pos = 0;
  private readonly strings = new Map<string, Uint8Array>();
  private readonly frozen = new Map<object, Uint8Array>();

  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    private readonly chunk: number = CHUNK,
  ) {
    this.buf = new Uint8Array(chunk);
  }

  /** Writes `JSON.stringify(value)` (`null` where JSON.stringify would give undefined). */
  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.string(v);
        return;
      case 'number':
        this.number(v);
        return;
      case 'boolean':
        this.ascii(v ? 'true' : 'false');
        return;
      case 'object':
        if (v === null) this.ascii('null');
        else if (Array.isArray(v)) this.array(v);
        else if (typeof (v as { toJSON?: unknown }).toJSON === 'function') this.text(JSON.stringify(v) ?? 'null');
        else this.object(v as Record<string, unknown>);
        return;
      case 'undefined':
      case 'function':
      case 'symbol':
        this.ascii('null'); // where JSON.stringify has nothing to write (callers skip such object fields)
        return;
      case 'bigint':
        this.text(JSON.stringify(v)); // throws, as JSON.stringify does
        return;
    }
  }

  /** Writes text that is already JSON (or a newline). */
  text(s: string): void {
    this.bytes(utf8(s));
  }

  /** Hands out what is buffered. */
  flush(): void {
    if (this.pos === 0) return;
    const full = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(this.chunk);
    this.pos = 0;
    this.sink(full);
  }

  private array(a: readonly unknown[]): void {
    if (Object.isFrozen(a)) {
      const known = this.frozen.get(a);
      if (known) return this.bytes(known);
      // Encode it once on the side, then keep the bytes (frozen: it cannot change).
      const chunks: Uint8Array[] = [];
      const side = new JsonByteWriter((b) => chunks.push(b), 1024);
      side.elements(a);
      side.flush();
      const bytes = concat(chunks); // exact size: a copy, not a view of the side writer's buffer
      if (this.frozen.size >= MAX_CACHED) this.frozen.clear();
      this.frozen.set(a, bytes);
      return this.bytes(bytes);
    }
    this.elements(a);
  }

  private elements(a: readonly unknown[]): void {
    this.byte(91); // [
    for (let i = 0; i < a.length; i++) {
      if (i > 0) this.byte(44); // ,
      const v = a[i];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') this.ascii('null');
      else this.value(v);
    }
    this.byte(93); // ]
  }

  private object(o: Record<string, unknown>): void {
    this.byte(123); // {
    let first = true;
    for (const key of Object.keys(o)) {
      const v = o[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (!first) this.byte(44);
      first = false;
      this.string(key);
      this.byte(58); // :
      this.value(v);
    }
    this.byte(125); // }
  }

  private string(s: string): void {
    if (s.length > MAX_CACHED_LENGTH) return this.bytes(utf8(JSON.stringify(s)));
    let bytes = this.strings.get(s);
    if (!bytes) {
      bytes = utf8(JSON.stringify(s));
      if (this.strings.size >= MAX_CACHED) this.strings.clear();
      this.strings.set(s, bytes);
    }
    this.bytes(bytes);
  }

  private number(n: number): void {
    if (Number.isInteger(n) && n >= 0 && n < 1e9) {
      // Digits by hand: the common case (lines, ids, counts).
      this.ensure(10);
      let div = 1;
      while (div * 10 <= n) div *= 10;
      for (; div >= 1; div /= 10) {
        const d = Math.floor(n / div) % 10;
        this.buf[this.pos++] = 48 + d;
      }
      return;
    }
    this.ascii(Number.isFinite(n) ? String(n) : 'null');
  }

  private ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  private byte(b: number): void {
    if (this.pos >= this.buf.length) this.flush();
    this.buf[this.pos++] = b;
  }

  private bytes(b: Uint8Array): void {
    if (b.length <= 16) {
      this.ensure(b.length);
      for (let i = 0; i < b.length; i++) this.buf[this.pos++] = b[i] as number;
      return;
    }
    if (b.length > this.buf.length) {
      this.flush();
      this.sink(b.slice());
      return;
    }
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** UTF-8 of a well-formed string (JSON.stringify escapes lone surrogates, so its output always is). */
export function utf8(s: string): Uint8Array {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) out[o++] = c;
    else if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    } else {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}
