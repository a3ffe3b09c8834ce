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
    return await readBytes(request, declared, max);
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

async function readBytes(request: DeliveryRequest, declared: number, max: number): Promise<Uint8Array> {
  // With a declared length, read before touching `request.body`: on @hono/node-server (and
  // other lightweight Request wrappers) the `body` getter builds a full Request and a
  // ReadableStream over the socket, which cost more than the rest of the handler together.
  if (declared > 0) {
    const data = await request.arrayBuffer();
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    if (bytes.length > max) throw tooLarge(max);
    return bytes;
  }
  if (!request.body) return new Uint8Array(0);
  // No length given (chunked): count while reading.
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
