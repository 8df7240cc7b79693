/**
 * Share links: the whole view in the URL fragment, so no server ever stores or even sees a scenario.
 *
 *     #v=1&k=v6.3&l=12&p=1&c=v6.4&s=<base64url(deflate-raw(UTF-8 text))>
 *
 * `v` is the format version and is read first; every version ever written keeps its decoder here (links in
 * mailing-list archives must keep working), and a link from a newer playground says so instead of guessing.
 * Unknown keys are ignored, so a later version 1 writer may add optional keys. Decoding never throws: a
 * malformed, tampered or oversized fragment gives a message and no state. Pure (Web platform only:
 * CompressionStream, TextEncoder), so it runs in the page and in the tests alike.
 */

/** The format this playground writes. */
export const LINK_FORMAT = 1;

/** The largest scenario a link may carry (characters, after decompression). */
export const MAX_LINK_SCENARIO_CHARS = 256 * 1024;
/** The largest fragment worth looking at: a compressed scenario of the size above stays well below. */
export const MAX_FRAGMENT_CHARS = 512 * 1024;

/** Everything a link restores. */
export interface ViewState {
  text: string;
  /** The kernel picker's profile (a `kernel` line in the text wins over it, as in the editor). */
  kernel: string;
  /** 0-based line of the cursor; the panel shows the state after it. */
  line: number;
  panelOpen: boolean;
  /** The panel's comparison kernel, or null. */
  compareKernel: string | null;
}

export type DecodeResult = { kind: 'empty' } | { kind: 'ok'; state: ViewState } | { kind: 'error'; message: string };

const KERNEL_NAME = /^[A-Za-z0-9_.]{1,32}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export async function encodeFragment(state: ViewState): Promise<string> {
  const params = new URLSearchParams();
  params.set('v', String(LINK_FORMAT));
  params.set('k', state.kernel);
  if (state.line > 0) params.set('l', String(state.line));
  if (state.panelOpen) params.set('p', '1');
  if (state.compareKernel) params.set('c', state.compareKernel);
  params.set('s', toBase64Url(await deflate(new TextEncoder().encode(state.text))));
  return params.toString();
}

/** Why a scenario cannot be shared, or null when it can. */
export function shareRefusal(text: string): string | null {
  if (text.length <= MAX_LINK_SCENARIO_CHARS) return null;
  return `This scenario is too large to share in a link (${kib(text.length)} KiB; links hold up to ${kib(MAX_LINK_SCENARIO_CHARS)} KiB).`;
}

/** `fragment` is `location.hash` with or without its `#`. */
export async function decodeFragment(fragment: string): Promise<DecodeResult> {
  const raw = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (raw === '') return { kind: 'empty' };
  if (raw.length > MAX_FRAGMENT_CHARS) return refuse('The link is too long to be a kvmmu playground link.');
  const params = new URLSearchParams(raw);
  const version = params.get('v');
  if (version === null) return refuse('The link has no format version (v=…): it was not made by the playground.');
  if (!/^\d{1,6}$/.test(version)) return refuse(`The link's format version "${clip(version)}" is not a number.`);
  const decoder = DECODERS[Number(version)];
  if (!decoder) {
    return Number(version) > LINK_FORMAT
      ? refuse(`The link uses format ${Number(version)}, made by a newer playground than this one (${LINK_FORMAT}).`)
      : refuse(`The link's format version ${Number(version)} does not exist.`);
  }
  try {
    return await decoder(params);
  } catch {
    // Decoders report what they can; anything else is a link that was cut or edited.
    return refuse('The link is damaged (cut short or edited): its scenario cannot be read.');
  }
}

type Decoder = (params: URLSearchParams) => Promise<DecodeResult>;

const DECODERS: Record<number, Decoder> = {
  1: decodeV1,
};

async function decodeV1(params: URLSearchParams): Promise<DecodeResult> {
  const s = params.get('s');
  if (s === null) return refuse('The link holds no scenario (s=…).');
  if (!BASE64URL.test(s)) return refuse('The link is damaged: its scenario is not base64url.');
  const kernel = params.get('k') ?? 'latest';
  if (!KERNEL_NAME.test(kernel)) return refuse(`The link names no valid kernel profile ("${clip(kernel)}").`);
  const compare = params.get('c');
  if (compare !== null && !KERNEL_NAME.test(compare)) {
    return refuse(`The link names no valid comparison kernel ("${clip(compare)}").`);
  }
  const lineText = params.get('l') ?? '0';
  if (!/^\d{1,7}$/.test(lineText)) return refuse(`The link's line "${clip(lineText)}" is not a line number.`);
  const bytes = fromBase64Url(s);
  if (bytes === null) return refuse('The link is damaged: its scenario is not base64url.');
  const inflated = await inflate(bytes, MAX_LINK_SCENARIO_CHARS * 4);
  if (inflated === 'too_large') return refuse(tooLarge());
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(inflated);
  } catch {
    return refuse('The link is damaged: its scenario is not UTF-8 text.');
  }
  if (text.length > MAX_LINK_SCENARIO_CHARS) return refuse(tooLarge());
  return {
    kind: 'ok',
    state: { text, kernel, line: Number(lineText), panelOpen: params.get('p') === '1', compareKernel: compare },
  };
}

function tooLarge(): string {
  return `The link's scenario is larger than links may carry (${kib(MAX_LINK_SCENARIO_CHARS)} KiB): it was not opened.`;
}

function refuse(message: string): DecodeResult {
  return { kind: 'error', message };
}

/** Untrusted text quoted in a message: short, one line. */
function clip(s: string): string {
  const one = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return one.length > 24 ? `${one.slice(0, 24)}…` : one;
}

function kib(chars: number): string {
  return (chars / 1024).toFixed(0);
}

async function deflate(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Inflates at most `limit` bytes: a small fragment must not be able to expand into gigabytes. */
async function inflate(bytes: Uint8Array<ArrayBuffer>, limit: number): Promise<Uint8Array | 'too_large'> {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      return 'too_large';
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length % 4 === 1) return null;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
