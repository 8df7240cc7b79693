/**
 * The byte stream ↔ JSON-RPC messages, for a client we do not trust. vscode-jsonrpc's stream reader waits forever
 * for a body its `Content-Length` promised (a header of 99999999999 bytes, or one shorter than its body, wedged the
 * server) and only logs a batch array or a request whose method is not a string. This reader never waits for more
 * than `MAX_MESSAGE_BYTES`, finds the next header after a bad frame, and answers what it cannot deliver with a
 * JSON-RPC error: `ParseError` for a body that is not JSON, `InvalidRequest` for a batch, a non-string method or
 * an oversized frame.
 */
import type { DataCallback, Disposable, Message, MessageWriter, ResponseMessage } from 'vscode-languageserver/node';
import { AbstractMessageReader, ErrorCodes, StreamMessageWriter } from 'vscode-languageserver/node';

/** Larger than any document the server accepts (20,000,000 UTF-16 units, ≤ 3 bytes each, JSON-escaped). */
export const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
/** A header block longer than this is not a header. */
const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');
const HEADER_NAMES = ['Content-Length:', 'content-length:', 'CONTENT-LENGTH:'].map((n) => Buffer.from(n, 'latin1'));

export interface Transport {
  reader: FramedMessageReader;
  writer: MessageWriter;
}

export function createStreamTransport(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Transport {
  const writer = new StreamMessageWriter(output);
  const reader = new FramedMessageReader(input, (reply) => {
    writer.write(reply).catch(() => undefined);
  });
  return { reader, writer };
}

export class FramedMessageReader extends AbstractMessageReader {
  /** Bytes received and not yet consumed, in arrival order (joined only when a whole body is there). */
  private chunks: Buffer[] = [];
  private received = 0;
  /** Body length the current header announced; undefined while reading a header. */
  private bodyLength: number | undefined;
  private callback: DataCallback | undefined;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    /** Sends an error response for what cannot be delivered. */
    private readonly reply: (response: ResponseMessage) => void,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer | string): void =>
      this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    const onError = (e: unknown): void => this.fireError(e);
    const onClose = (): void => this.fireClose();
    this.input.on('data', onData);
    this.input.on('error', onError);
    this.input.on('end', onClose);
    this.input.on('close', onClose);
    return {
      dispose: () => {
        this.input.off('data', onData);
        this.input.off('error', onError);
        this.input.off('end', onClose);
        this.input.off('close', onClose);
        this.callback = undefined;
      },
    };
  }

  /** Feeds bytes (the stream's `data` events). */
  onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
    for (;;) {
      if (this.bodyLength === undefined) {
        if (!this.readHeader()) return;
        continue;
      }
      if (this.received < this.bodyLength) return;
      const all = this.take();
      const body = all.subarray(0, this.bodyLength);
      this.keep(all.subarray(this.bodyLength));
      this.bodyLength = undefined;
      this.deliver(body);
    }
  }

  /** Consumes one header block, or skips what cannot be one; false when more bytes are needed. */
  private readHeader(): boolean {
    const buffer = this.take();
    const end = buffer.indexOf(HEADER_END);
    if (end < 0) {
      this.keep(buffer);
      if (buffer.length <= MAX_HEADER_BYTES) return false;
      this.resync(buffer, 1);
      return true;
    }
    let length: number | undefined;
    for (const line of buffer.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'content-length') {
        const value = line.slice(colon + 1).trim();
        length = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
      }
    }
    if (length === undefined || Number.isNaN(length)) {
      this.reply(invalid(null, 'a message header without a valid Content-Length was skipped'));
      this.resync(buffer, 1);
      return true;
    }
    const rest = buffer.subarray(end + HEADER_END.length);
    if (length > MAX_MESSAGE_BYTES) {
      // Refused without reading it: waiting for its bytes is what wedged the reader. Whatever follows up to the
      // next header is dropped.
      this.reply(invalid(null, `a message of ${length} bytes was refused (the limit is ${MAX_MESSAGE_BYTES})`));
      this.resync(rest, 0);
      return true;
    }
    this.keep(rest);
    this.bodyLength = length;
    return true;
  }

  private take(): Buffer {
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [];
    this.received = 0;
    return all;
  }

  private keep(buffer: Buffer): void {
    this.chunks = buffer.length > 0 ? [buffer] : [];
    this.received = buffer.length;
  }

  /** Keeps `buffer` from the next `Content-Length` header name at or after `from`, or nothing. */
  private resync(buffer: Buffer, from: number): void {
    const next = nextHeader(buffer, from);
    this.keep(next < 0 ? Buffer.alloc(0) : buffer.subarray(next));
  }

  private deliver(body: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch {
      this.reply({ jsonrpc: '2.0', id: null, error: { code: ErrorCodes.ParseError, message: 'invalid JSON' } });
      // A Content-Length shorter than its body leaves the rest of the body in front of the next header.
      this.resync(this.take(), 0);
      return;
    }
    if (Array.isArray(message)) {
      this.reply(invalid(null, 'batch requests are not supported'));
      return;
    }
    if (typeof message !== 'object' || message === null) {
      this.reply(invalid(null, 'a message must be a JSON object'));
      return;
    }
    const m = message as Record<string, unknown>;
    const id = typeof m['id'] === 'number' || typeof m['id'] === 'string' ? m['id'] : null;
    if ('method' in m && typeof m['method'] !== 'string') {
      if ('id' in m) this.reply(invalid(id, 'method must be a string'));
      return;
    }
    this.callback?.(message as Message);
  }
}

function invalid(id: number | string | null, message: string): ResponseMessage {
  return { jsonrpc: '2.0', id, error: { code: ErrorCodes.InvalidRequest, message } };
}

/** Where the next `Content-Length` header name starts (in the usual spellings), or -1. */
function nextHeader(buffer: Buffer, from: number): number {
  let best = -1;
  for (const name of HEADER_NAMES) {
    const at = buffer.indexOf(name, from);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}
