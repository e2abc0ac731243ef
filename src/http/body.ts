/**
 * Reads a request body as text with a size limit, decompressing `Content-Encoding: gzip` (or
 * deflate) as some Segment SDKs send it. The limit applies to the decompressed bytes, so a
 * compression bomb stops at the limit instead of filling memory.
 */
import { ApiError } from "./errors";

export async function readBodyText(request: Request, limitBytes: number, limitName: string): Promise<string> {
  if (!request.body) return "";
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  let stream: ReadableStream<Uint8Array> = request.body;
  if (encoding === "gzip" || encoding === "x-gzip") stream = stream.pipeThrough(new DecompressionStream("gzip"));
  else if (encoding === "deflate") stream = stream.pipeThrough(new DecompressionStream("deflate"));
  else if (encoding !== "identity") throw new ApiError("unsupported_media_type", `Content-Encoding "${encoding}" is not supported; send gzip, deflate or none`);

  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limitBytes) {
        await reader.cancel();
        throw new ApiError("payload_too_large", `The body is over the ${limitName} limit of ${limitBytes / 1024} KB`, [], { limit: limitName, limitBytes });
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError("bad_request", `The body could not be read as ${encoding}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
