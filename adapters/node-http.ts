import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError, type DeliveryRequest, type ReplyHandler } from "jobstash";
import { NodeHeaders, readAll, webStream } from "./node-request.js";

/**
 * The one bridge between Node's req/res and the core, shared by Express and the Next.js Pages
 * Router. It translates only: the raw bytes go in untouched, the core's reply comes out
 * untouched. It hands the core the few request fields it reads and writes the reply itself,
 * because building a Web Request and Response in Node (and reading their streams back) costs
 * more than verifying and running the job.
 */

type NodeRequest = IncomingMessage & { body?: unknown; originalUrl?: string };

const PARSED =
  "the request body was already read by a body parser (express.json(), Next.js's API bodyParser, ...). " +
  "QStash signs the raw bytes, and a re-serialised body fails the signature: mount jobstash before any body parser " +
  "(or use express.raw()), and in the Next.js Pages Router add `export const config = { api: { bodyParser: false } }`.";

class NodeDelivery implements DeliveryRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: DeliveryRequest["headers"];
  bodyUsed = false;

  constructor(private readonly req: NodeRequest) {
    this.method = req.method ?? "GET";
    this.url = `http://${req.headers.host ?? "localhost"}${req.originalUrl ?? req.url ?? "/"}`;
    this.headers = new NodeHeaders(req.headers);
  }

  /** What a body parser left: the exact bytes (express.raw()), or an error if it kept less. */
  private parsed(): Uint8Array | ConfigError | undefined {
    const { req } = this;
    if (req.body instanceof Uint8Array) return req.body;
    if (req.body !== undefined || req.readableEnded) return new ConfigError(PARSED);
    return undefined;
  }

  /** The body's bytes. The core only buffers bodies whose declared length it accepted. */
  arrayBuffer(): Promise<Uint8Array> {
    this.bodyUsed = true;
    const parsed = this.parsed();
    if (parsed instanceof ConfigError) return Promise.reject(parsed);
    return parsed ? Promise.resolve(parsed) : readAll(this.req);
  }

  /** A body of unknown length (chunked), which the core reads while counting. */
  get body(): ReadableStream<Uint8Array> {
    this.bodyUsed = true;
    const parsed = this.parsed();
    if (!parsed) return webStream(this.req);
    return new ReadableStream({
      start(controller) {
        if (parsed instanceof ConfigError) return controller.error(parsed);
        controller.enqueue(parsed);
        controller.close();
      },
    });
  }
}

/** `(req, res)` for Node servers, from the core's reply handler. */
export function nodeHandler(handler: ReplyHandler) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { status, headers, body } = await handler(new NodeDelivery(req));
    res.statusCode = status;
    for (const name in headers) res.setHeader(name, headers[name]!);
    res.end(body ?? undefined);
  };
}
