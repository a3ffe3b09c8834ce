import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError, type Handler } from "jobstash";

/**
 * The one bridge between Node's req/res and the fetch-shaped core, shared by Express and the
 * Next.js Pages Router. It translates only: the raw bytes go in untouched, the core's
 * Response comes out untouched.
 */

type NodeRequest = IncomingMessage & { body?: unknown; originalUrl?: string };

const PARSED =
  "the request body was already read by a body parser (express.json(), Next.js's API bodyParser, ...). " +
  "QStash signs the raw bytes, and a re-serialised body fails the signature: mount jobstash before any body parser " +
  "(or use express.raw()), and in the Next.js Pages Router add `export const config = { api: { bodyParser: false } }`.";

/** A body that fails when read, so the core answers with the configuration error. */
function unavailable(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.error(new ConfigError(PARSED)) });
}

/**
 * Small bodies of declared length are read before the Request is made: undici's conversion
 * of a Node stream costs more per request than the job. Larger and chunked bodies stream,
 * so the core's size limit applies before anything big is buffered.
 */
const READ_AHEAD_LIMIT = 1024 * 1024;

function readAll(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

export async function toRequest(req: NodeRequest): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const url = `http://${req.headers.host ?? "localhost"}${req.originalUrl ?? req.url ?? "/"}`;
  const method = req.method ?? "GET";
  let body: BodyInit | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const declared = Number(req.headers["content-length"]);
    // express.raw() keeps the exact bytes; any other parser has lost them.
    if (req.body instanceof Uint8Array) body = req.body as BodyInit;
    else if (req.body !== undefined || req.readableEnded) body = unavailable();
    else if (declared > 0 && declared <= READ_AHEAD_LIMIT) body = (await readAll(req)) as BodyInit;
    else body = req as unknown as BodyInit;
  }
  return new Request(url, { method, headers, body, duplex: "half" } as RequestInit);
}

export async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.end(new Uint8Array(await response.arrayBuffer()));
}

/** `(req, res)` for Node servers, from the core handler. */
export function nodeHandler(handler: Handler) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    await sendResponse(await handler(await toRequest(req)), res);
  };
}
