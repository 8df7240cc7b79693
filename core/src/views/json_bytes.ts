/**
 * Compact JSON straight to UTF-8 bytes, for the CLI's `--json` on large scenarios: the same text as
 * `JSON.stringify(value)` (a test holds it to that), without building the string and then encoding it. A report
 * repeats itself — a few dozen distinct call paths (frozen, shared arrays), sentences, keys, and the model's
 * shared actions (frozen objects) — so each distinct string and deeply frozen array or object is encoded once and
 * copied after. Strings are encoded in place in one pass (see `quoted`). Values must be plain data (objects, arrays,
 * strings, finite or non-finite numbers, booleans, null); anything else is left to JSON.stringify.
 */

/** Bytes are handed out in chunks of about this size; each is the sink's to keep unless the writer reuses them. */
const CHUNK = 1 << 18;
const MIN_CHUNK = 256;
/** Bounds on the caches: a scenario's distinct strings are few; when they are not, the cache starts over. */
const MAX_CACHED = 20_000;
/** Strings up to this long are encoded once and copied after (see `string`). */
const MAX_SHORT_STRING = 32;
const MAX_CACHED_LENGTH = 256;
/** Strings up to this long are encoded in place (`quoted`); longer ones by the platform's encoder, in one call. */
const MAX_INLINE_STRING = 4096;
/** The encoded frozen values kept, in bytes: a long scenario's distinct shared results fit many times over. */
const MAX_FROZEN_BYTES = 64 << 20;
/** Kept bytes are copied into slabs this big (see `keep`). */
const SLAB = 1 << 20;

/**
 * The platform's UTF-8 encoder where there is one (Node and browsers both have it; core declares no platform, so
 * it is looked up rather than assumed): native code, many times faster than `utf8Js` on long strings.
 */
interface Utf8Encoder {
  encode(s: string): Uint8Array;
  encodeInto(s: string, into: Uint8Array): { read: number; written: number };
}
const nativeEncoder = ((): Utf8Encoder | undefined => {
  const ctor = (globalThis as { TextEncoder?: new () => Utf8Encoder }).TextEncoder;
  return ctor ? new ctor() : undefined;
})();

/** Strings at least this long that need no escaping are encoded by the platform, straight into the buffer. */
const NATIVE_INTO_MIN = 40;
/** What JSON.stringify escapes: quote, backslash, control characters, surrogates (lone ones; pairs are let through). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Room for a step's opening (see stepOpening) before the vCPU part, which is copied with its own check: a comma,
 * `{"line":` and up to ten digits.
 */
const STEP_OPENING_ROOM = 1 + 8 + 10;

export class JsonByteWriter {
  private buf: Uint8Array;
  private pos = 0;
  private flushes = 0;
  private readonly frozen = new Map<object, Uint8Array>();
  private frozenBytes = 0;
  /** Where kept bytes are copied to (see `keep`). */
  private slab = new Uint8Array(0);
  private slabPos = 0;
  /** Encoded forms of `text` calls. */
  private readonly texts = new Map<string, Uint8Array>();
  /** Encoded short strings (see `string`). */
  private readonly shortStrings = new Map<string, Uint8Array>();
  /** `,"vcpu":V,"text":` for each vCPU id V met so far (see stepOpening). */
  private readonly vcpuHeads: Uint8Array[] = [];
  /** Encoded step texts, by the key `stepHead` was given. */
  private readonly stepTexts = new Map<object, Uint8Array>();
  /** `"key":` for each object key seen. */
  private readonly keys = new Map<string, Uint8Array>();
  private readonly chunk: number;

  /**
   * `sink` gets the bytes in chunks of about `chunk` bytes. When `reuse` is set, the sink is done with a chunk
   * when it returns (a synchronous write to a file): the writer then fills the same buffer again rather than a
   * new one per chunk. Otherwise each chunk is the sink's to keep. Chunks are at least MIN_CHUNK bytes: the
   * fixed-size pieces (a step's head, a number) are written into room ensured beforehand, which must fit.
   */
  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    chunk: number = CHUNK,
    private readonly reuse = false,
  ) {
    this.chunk = Math.max(chunk, MIN_CHUNK);
    this.buf = new Uint8Array(this.chunk);
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
        else if (Object.isFrozen(v)) this.frozenValue(v);
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

  /** Writes bytes that are already JSON in UTF-8 (a caller's constant). */
  raw(b: Uint8Array): void {
    this.bytes(b);
  }

  /** Writes text that is already JSON (or a newline). Each distinct short text is encoded once. */
  text(s: string): void {
    if (s.length > MAX_CACHED_LENGTH) return this.bytes(utf8(s));
    let bytes = this.texts.get(s);
    if (!bytes) {
      bytes = utf8(s);
      if (this.texts.size >= MAX_CACHED) this.texts.clear();
      this.texts.set(s, bytes);
    }
    this.bytes(bytes);
  }

  /**
   * Writes what `encode` writes. When `key` is frozen (what it stands for cannot change) the bytes are kept and
   * copied the next time the same key comes, instead of calling `encode` again.
   */
  keyed(key: object, encode: () => void): void {
    if (!Object.isFrozen(key)) return encode();
    const known = this.frozen.get(key);
    if (known) return this.bytes(known);
    this.remember(key, encode);
  }

  /**
   * Copies the bytes kept for the frozen `key` (see `keyed`) and says whether there were any: a caller's fast path
   * that needs no encode function.
   */
  cached(key: object): boolean {
    const known = this.frozen.get(key);
    if (known === undefined) return false;
    this.bytes(known);
    return true;
  }

  /**
   * `{"line":L,"vcpu":V,"text":T` with T (`text.slice(start, end)`) as JSON, preceded by a comma unless `first`: the
   * opening of every step of a report, written in one go (the report's hottest path: a step's result is usually
   * copied whole after it). `key`, when given, stands for T: the caller vouches that the same key always comes with
   * the same T, and T is then encoded once and copied after.
   */
  stepHead(first: boolean, line: number, vcpu: number, text: string, start = 0, end = text.length, key?: object): void {
    this.stepOpening(first, line, vcpu);
    // The text is `text.slice(start, end)`, encoded from `text` without the slice.
    if (end > text.length) end = text.length;
    if (start > end) start = end;
    // With a key (a statement shared by repeated lines), the text's bytes are kept and copied when it comes again.
    if (key === undefined) this.quoted(text, start, end);
    else this.quotedOnce(this.stepTexts, key, text, start, end);
  }

  /** `{"line":L,"vcpu":V,"text":`, preceded by a comma unless `first`: the opening of every step. */
  private stepOpening(first: boolean, line: number, vcpu: number): void {
    this.ensure(STEP_OPENING_ROOM);
    const buf = this.buf;
    let o = this.pos;
    if (!first) buf[o++] = 44; // ,
    // {"line": as eight stores: this runs once per step, often before it is optimized, when a loop costs more.
    buf[o] = 123; // {
    buf[o + 1] = 34; // "
    buf[o + 2] = 108; // l
    buf[o + 3] = 105; // i
    buf[o + 4] = 110; // n
    buf[o + 5] = 101; // e
    buf[o + 6] = 34; // "
    buf[o + 7] = 58; // :
    this.pos = o + 8;
    this.uint(line);
    this.bytes((this.vcpuHeads[vcpu] ??= utf8(`,"vcpu":${vcpu},"text":`)));
  }

  /**
   * The steps of an analysis, from its columns (Steps), as `stepHead` and then `cached` or `writeResult` would
   * write them one call at a time: `[0, n)` of `lines` (0-based), `vcpus`, `starts`/`ends` (each statement's part
   * of `text`), `results` and `keys` (each a key for its statement's text, as in `stepHead`). One loop with the common
   * case written out — a statement's text and a shared result both copied from what was kept — because it runs once
   * per step and mostly before the optimizing compiler has got to the functions it would otherwise call; a loop
   * is optimized while it runs. `writeResult` writes a result not seen before (or not kept).
   */
  stepColumns(
    text: string,
    n: number,
    lines: Int32Array,
    vcpus: Int32Array,
    starts: Int32Array,
    ends: Int32Array,
    results: readonly object[],
    keys: readonly object[],
    writeResult: (result: object) => void,
  ): void {
    const stepTexts = this.stepTexts;
    const frozen = this.frozen;
    for (let i = 0; i < n; i++) {
      this.stepOpening(i === 0, (lines[i] as number) + 1, vcpus[i] as number);
      const key = keys[i] as object;
      const textBytes = stepTexts.get(key);
      if (textBytes !== undefined) this.bytes(textBytes);
      else {
        const end = Math.min(ends[i] as number, text.length);
        this.quotedOnce(stepTexts, key, text, Math.min(starts[i] as number, end), end);
      }
      const result = results[i] as object;
      const resultBytes = frozen.get(result);
      if (resultBytes !== undefined) this.bytes(resultBytes);
      else writeResult(result);
    }
  }

  /** Hands out what is buffered. */
  flush(): void {
    if (this.pos === 0) return;
    this.flushes++;
    const full = this.buf.subarray(0, this.pos);
    if (!this.reuse) this.buf = new Uint8Array(this.chunk);
    this.pos = 0;
    this.sink(full);
  }

  private array(a: readonly unknown[]): void {
    if (Object.isFrozen(a)) this.frozenValue(a);
    else this.elements(a);
  }

  /**
   * A frozen array or object: when everything inside is frozen too (it cannot change), encode it once on the
   * side and keep the bytes.
   */
  private frozenValue(v: object): void {
    const known = this.frozen.get(v);
    if (known) return this.bytes(known);
    if (!deeplyFrozen(v)) {
      if (Array.isArray(v)) this.elements(v);
      else this.object(v as Record<string, unknown>);
      return;
    }
    this.remember(v, () => (Array.isArray(v) ? this.elements(v) : this.object(v as Record<string, unknown>)));
  }

  /**
   * Encodes in place and keeps a copy of the bytes under `key` (unless the buffer was handed out meanwhile: then
   * it is encoded again next time).
   */
  private remember(key: object, encode: () => void): void {
    const start = this.pos;
    const flushes = this.flushes;
    encode();
    if (this.flushes !== flushes) return;
    const n = this.pos - start;
    this.frozenBytes += n;
    if (this.frozenBytes > MAX_FROZEN_BYTES) {
      this.frozen.clear();
      this.frozenBytes = n;
      this.slab = new Uint8Array(0);
    }
    this.frozen.set(key, this.keep(this.buf.subarray(start, this.pos)));
  }

  /**
   * A copy of `bytes` that stays: a view into a slab shared by the kept values (a long scenario keeps tens of
   * thousands of them; one ArrayBuffer each costs several times more to make).
   */
  private keep(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (n > SLAB / 4) return bytes.slice();
    if (this.slabPos + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB);
      this.slabPos = 0;
    }
    const at = this.slabPos;
    this.slab.set(bytes, at);
    this.slabPos = at + n;
    return this.slab.subarray(at, at + n);
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
    // for…in over a plain object visits its own keys in Object.keys order without building an array; the
    // hasOwnProperty test leaves out anything enumerable up the prototype chain, as JSON.stringify does.
    for (const key in o) {
      if (!hasOwn(o, key)) continue;
      const v = o[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      let k = this.keys.get(key);
      if (k === undefined) {
        k = utf8(JSON.stringify(key) + ':');
        if (this.keys.size >= MAX_CACHED) this.keys.clear();
        this.keys.set(key, k);
      }
      if (!first) this.byte(44); // ,
      this.bytes(k);
      first = false;
      this.value(v);
    }
    this.byte(125); // }
  }

  /**
   * `JSON.stringify(s)` as UTF-8. A short string is encoded once and its bytes copied after (a report's short strings
   * — outcomes, summaries, ops, names — are a few dozen, repeated over and over: a map lookup and a copy are
   * cheaper than encoding again); a longer one is encoded in place each time (sentences quoting register values
   * occur once).
   */
  private string(s: string): void {
    if (s.length > MAX_SHORT_STRING) this.quoted(s, 0, s.length);
    else this.quotedOnce(this.shortStrings, s, s, 0, s.length);
  }

  /**
   * `quoted(s, start, end)`, its bytes kept in `cache` under `key` and copied when the key comes again: the caller
   * vouches that a key always stands for the same text. Bounded: a full cache starts over.
   */
  private quotedOnce<K>(cache: Map<K, Uint8Array>, key: K, s: string, start: number, end: number): void {
    const known = cache.get(key);
    if (known !== undefined) return this.bytes(known);
    const at = this.pos;
    const flushes = this.flushes;
    this.quoted(s, start, end);
    // Handed out meanwhile (the buffer filled up): not kept, encoded again next time.
    if (this.flushes !== flushes) return;
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, this.keep(this.buf.subarray(at, this.pos)));
  }

  /**
   * `JSON.stringify(s.slice(start, end))` as UTF-8, with 0 ≤ start ≤ end ≤ s.length, without the slice. Escapes as
   * JSON.stringify does: `"` and backslash with a backslash, the control characters with short forms (b t n f r) by
   * those, the other control characters and lone surrogates as lower-case `uXXXX`; DEL and everything else as it is.
   */
  private quoted(s: string, start: number, end: number): void {
    // At most 6 bytes per UTF-16 unit (a control character as backslash-u and four digits), plus the quotes.
    const room = (end - start) * 6 + 2;
    if (end - start > MAX_INLINE_STRING || room > this.buf.length)
      return this.bytes(utf8(JSON.stringify(start === 0 && end === s.length ? s : s.slice(start, end))));
    this.ensure(room);
    const buf = this.buf;
    let o = this.pos;
    if (
      nativeEncoder !== undefined &&
      end - start >= NATIVE_INTO_MIN &&
      start === 0 &&
      end === s.length &&
      !NEEDS_ESCAPE.test(s)
    ) {
      // A long sentence with nothing to escape (an action's detail): the platform encodes it in one call.
      buf[o++] = 34;
      o += nativeEncoder.encodeInto(s, buf.subarray(o)).written;
      buf[o++] = 34;
      this.pos = o;
      return;
    }
    buf[o++] = 34;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c < 0x80) {
        if (c === 34 || c === 92) buf[o++] = 92;
        buf[o++] = c;
      } else if (c < 0x20) {
        buf[o++] = 92;
        const short = SHORT_ESCAPES[c] as number;
        if (short !== 0) buf[o++] = short;
        else o = hex4(buf, o, c);
      } else if (c < 0x800) {
        buf[o++] = 0xc0 | (c >> 6);
        buf[o++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        buf[o++] = 0xe0 | (c >> 12);
        buf[o++] = 0x80 | ((c >> 6) & 0x3f);
        buf[o++] = 0x80 | (c & 0x3f);
      } else {
        const d = i + 1 < end ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const p = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[o++] = 0xf0 | (p >> 18);
          buf[o++] = 0x80 | ((p >> 12) & 0x3f);
          buf[o++] = 0x80 | ((p >> 6) & 0x3f);
          buf[o++] = 0x80 | (p & 0x3f);
          i++;
        } else {
          buf[o++] = 92;
          o = hex4(buf, o, c);
        }
      }
    }
    buf[o++] = 34;
    this.pos = o;
  }

  private number(n: number): void {
    if (Number.isInteger(n) && n >= 0 && n < 1e9) {
      // Digits by hand: the common case (lines, ids, counts).
      this.ensure(10);
      this.uint(n);
      return;
    }
    this.ascii(Number.isFinite(n) ? String(n) : 'null');
  }

  /** Decimal digits of an integer 0 ≤ n < 1e9, with room for them already ensured. */
  private uint(n: number): void {
    if (!(n >= 0 && n < 1e9 && n === Math.floor(n))) return this.ascii(String(n));
    let digits = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
    const buf = this.buf;
    let o = this.pos + digits;
    this.pos = o;
    let x = n | 0;
    do {
      const q = (x / 10) | 0;
      buf[--o] = 48 + x - q * 10;
      x = q;
    } while (x > 0);
  }

  private ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  private byte(b: number): void {
    if (this.pos >= this.buf.length) this.flush();
    this.buf[this.pos++] = b;
  }

  /** Copies `b`: in place when it fits (the usual case), else after handing out what is buffered. */
  private bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) {
        this.sink(b.slice());
        return;
      }
    }
    const buf = this.buf;
    let o = this.pos;
    if (n <= 16) for (let j = 0; j < n; j++) buf[o++] = b[j] as number;
    else {
      buf.set(b, o);
      o += n;
    }
    this.pos = o;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
  }
}

/** The letter after the backslash for the control characters JSON.stringify writes short (\b \t \n \f \r); 0 for the rest. */
const SHORT_ESCAPES = ((): Uint8Array => {
  const t = new Uint8Array(0x20);
  t[8] = 98; // b
  t[9] = 116; // t
  t[10] = 110; // n
  t[12] = 102; // f
  t[13] = 114; // r
  return t;
})();

const HEX = '0123456789abcdef';

/** `uXXXX` (lower-case hex, as JSON.stringify writes it) for the code unit `c`, at `o`; returns the new end. */
function hex4(buf: Uint8Array, o: number, c: number): number {
  buf[o++] = 117; // u
  buf[o++] = HEX.charCodeAt((c >> 12) & 15);
  buf[o++] = HEX.charCodeAt((c >> 8) & 15);
  buf[o++] = HEX.charCodeAt((c >> 4) & 15);
  buf[o++] = HEX.charCodeAt(c & 15);
  return o;
}

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

function deeplyFrozen(v: object): boolean {
  if (!Object.isFrozen(v)) return false;
  for (const x of Object.values(v) as unknown[])
    if (typeof x === 'object' && x !== null && !deeplyFrozen(x)) return false;
  return true;
}

/** UTF-8 of a well-formed string (JSON.stringify escapes lone surrogates, so its output always is). */
export function utf8(s: string): Uint8Array {
  if (nativeEncoder !== undefined && s.length > 32) return nativeEncoder.encode(s);
  return utf8Js(s);
}

/** `utf8` in plain code: for short strings (no native call) and platforms without TextEncoder. */
export function utf8Js(s: string): Uint8Array {
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
