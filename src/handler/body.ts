import { ConfigError, JobstashError } from "../errors.js";
import type { DeliveryRequest } from "./handler.js";
import { HttpFailure, thrownMessage } from "./respond.js";

/** The body's bytes, refusing to buffer more than `max`. */
export async function readBody(request: DeliveryRequest, max: number): Promise<Uint8Array> {
  if (request.bodyUsed) {
    throw new ConfigError(
      "the request body was already read (by a body parser or middleware) before jobstash got it; QStash signs the raw bytes, so mount jobstash before anything that reads the body",
    );
  }
  const declared = Number(request.headers.get("content-length"));
  if (declared > max) throw tooLarge(max);
  try {
    // With a declared length, read before touching `request.body`: on @hono/node-server (and
    // other lightweight Request wrappers) the `body` getter builds a full Request and a
    // ReadableStream over the socket, which cost more than the rest of the handler together.
    // Read here rather than in a helper: the one await is this function's own.
    if (declared > 0) {
      const data = await request.arrayBuffer();
      const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
      if (bytes.length > max) throw tooLarge(max);
      return bytes;
    }
    return await readCounting(request, max);
  } catch (error) {
    // A refusal or a configuration error says what to fix; anything else is the connection
    // (the client went away mid-body), not a job that threw.
    if (error instanceof HttpFailure || error instanceof JobstashError) throw error;
    throw new HttpFailure(
      400,
      "UNREADABLE_BODY",
      `the request body could not be read (${thrownMessage(error)})`,
    );
  }
}

const tooLarge = (max: number) =>
  new HttpFailure(
    413,
    "PAYLOAD_TOO_LARGE",
    `body is larger than ${max} bytes; raise createJobstash({ maxBodySize })`,
  );

/** A body of no declared length (chunked), counted while it is read. */
async function readCounting(request: DeliveryRequest, max: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
