/**
 * Reads a request body with a size limit, decompressing `Content-Encoding: gzip` (or deflate) as
 * some Segment SDKs send it. The limit applies to the decompressed bytes, so a compression bomb
 * stops at the limit instead of filling memory. Nothing past the limit is kept, and a body over it
 * gets 413 (docs/ingest.md, "Limits"):
 * - a declared Content-Length over the limit is refused before anything is read;
 * - a chunked (or compressed) body is refused once it passes the limit, after the rest of what
 *   the client sends is read and thrown away (up to DRAIN_LIMIT_BYTES): a client still sending
 *   when the answer comes would see its connection reset instead of the 413.
 */
import { ApiError } from "./errors";

/** Cloudflare's smallest request-body limit (Free and Pro plans): nothing larger reaches a Worker. */
export const DRAIN_LIMIT_BYTES = 100 * 1024 * 1024;

/** How much of a refused body is kept for the quarantine (its first bytes). */
export const KEPT_BODY_BYTES = 32 * 1024;

/**
 * A body refused before it could be parsed (over a limit, bad compression, not UTF-8), with its
 * first bytes (`kept`: decompressed when over a limit, as sent otherwise) so that the caller can
 * quarantine them.
 */
export class BodyRefused extends ApiError {
  constructor(
    error: ApiError,
    readonly reason: "too_large" | "bad_encoding" | "invalid_utf8",
    readonly kept: Uint8Array,
  ) {
    super(error.code, error.detail, error.errors, error.extra);
  }
}

/**
 * The body as text. Bytes that are not UTF-8 are refused (400, with the offset of the first one),
 * never replaced: a replaced identifier would silently become another customer's.
 */
export async function readBodyText(request: Request, limitBytes: number, limitName: string): Promise<string> {
  const bytes = await readBodyBytes(request, limitBytes, limitName);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const offset = invalidUtf8Offset(bytes);
    const error = new ApiError("bad_request", `The body is not valid UTF-8: byte ${offset} begins no valid character`, [{ field: "(body)", message: `must be UTF-8 text (invalid byte at offset ${offset})` }], { reason: "invalid_utf8", offset });
    throw new BodyRefused(error, "invalid_utf8", bytes.subarray(0, KEPT_BODY_BYTES));
  }
}

/**
 * The offset of the first byte that does not begin a valid UTF-8 sequence (overlong forms,
 * surrogates and code points past U+10FFFF included, as the Encoding standard decodes), or -1.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    // How many continuation bytes follow, and the range the first of them must fall in.
    let follow: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) follow = 1;
    else if (lead >= 0xe0 && lead <= 0xef) [follow, low, high] = [2, lead === 0xe0 ? 0xa0 : 0x80, lead === 0xed ? 0x9f : 0xbf];
    else if (lead >= 0xf0 && lead <= 0xf4) [follow, low, high] = [3, lead === 0xf0 ? 0x90 : 0x80, lead === 0xf4 ? 0x8f : 0xbf];
    else return i;
    for (let k = 1; k <= follow; k++) {
      const b = bytes[i + k];
      if (b === undefined || b < (k === 1 ? low : 0x80) || b > (k === 1 ? high : 0xbf)) return i;
    }
    i += follow + 1;
  }
  return -1;
}

export async function readBodyBytes(request: Request, limitBytes: number, limitName: string): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  const format = encoding === "gzip" || encoding === "x-gzip" ? "gzip" : encoding === "deflate" ? "deflate" : encoding === "identity" ? null : undefined;
  if (format === undefined) throw new ApiError("unsupported_media_type", `Content-Encoding "${encoding}" is not supported; send gzip, deflate or none`, [{ field: "Content-Encoding", message: "must be gzip, deflate or absent" }]);
  const chunks: Uint8Array[] = [];
  const tooLarge = (kept: Uint8Array) =>
    new BodyRefused(
      new ApiError("payload_too_large", `The body is over the ${limitName} limit of ${limitBytes / 1024} KB`, [{ field: "(body)", message: `must be at most ${limitBytes} bytes${format ? " once decompressed" : ""}` }], { limit: limitName, limitBytes }),
      "too_large",
      kept,
    );
  const raw = request.body.getReader();
  if (format === null && Number(request.headers.get("content-length") ?? 0) > limitBytes) {
    // Its first bytes are kept, and the rest is not read: the declared length refuses it.
    let kept = 0;
    while (kept < KEPT_BODY_BYTES) {
      const { done, value } = await raw.read().catch(() => ({ done: true as const, value: undefined }));
      if (done) break;
      chunks.push(value);
      kept += value.byteLength;
    }
    await raw.cancel().catch(() => undefined);
    throw tooLarge(concat(chunks, kept).subarray(0, KEPT_BODY_BYTES));
  }
  const decompressor = format ? new DecompressionStream(format) : null;
  // The raw body is pumped into the decompressor (when there is one) by hand, so that once the
  // limit is passed the rest can still be drained from the raw body without decompressing it;
  // its first bytes are kept as sent, for a body that turns out not to decompress.
  let over = false;
  const writer = decompressor?.writable.getWriter();
  const sent: Uint8Array[] = [];
  const pump = writer ? pumpInto(raw, writer, () => over, sent) : null;
  const reader = decompressor ? decompressor.readable.getReader() : raw;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limitBytes) {
        over = true;
        if (decompressor) {
          await reader.cancel().catch(() => undefined);
          await pump;
        } else await drain(raw);
        throw tooLarge(concat(chunks, total - value.byteLength).subarray(0, KEPT_BODY_BYTES));
      }
      chunks.push(value);
    }
    await pump;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    await raw.cancel().catch(() => undefined);
    const error = new ApiError("bad_request", `The body could not be read as ${encoding} (Content-Encoding): ${err instanceof Error ? err.message : String(err)}`, [{ field: "Content-Encoding", message: `does not match the body: it is not valid ${format}` }], { reason: "bad_encoding" });
    throw new BodyRefused(error, "bad_encoding", concat(sent, sent.reduce((n, c) => n + c.byteLength, 0)));
  }
  return concat(chunks, total);
}

/** Feeds the raw body to the decompressor until the body ends or the reader stopped (`stopped`), then drains the rest. */
async function pumpInto(raw: ReadableStreamDefaultReader<Uint8Array>, writer: WritableStreamDefaultWriter<Uint8Array>, stopped: () => boolean, sent: Uint8Array[]): Promise<void> {
  let kept = 0;
  try {
    for (;;) {
      if (stopped()) return drain(raw);
      const { done, value } = await raw.read();
      if (done) return await writer.close();
      if (kept < KEPT_BODY_BYTES) {
        sent.push(value.subarray(0, KEPT_BODY_BYTES - kept));
        kept += Math.min(value.byteLength, KEPT_BODY_BYTES - kept);
      }
      await writer.write(value);
    }
  } catch (err) {
    // The reader cancelled the decompressor (limit passed): what is left of the body is drained.
    if (stopped()) return drain(raw);
    await writer.abort(err).catch(() => undefined);
  }
}

async function drain(raw: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let drained = 0;
  for (;;) {
    const { done, value } = await raw.read().catch(() => ({ done: true as const, value: undefined }));
    if (done) return;
    drained += value.byteLength;
    if (drained > DRAIN_LIMIT_BYTES) return void (await raw.cancel().catch(() => undefined));
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return bytes;
}
