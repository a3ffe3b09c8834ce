import { type Context, Hono } from "hono";
import {
  type AnyJobstash,
  createHandler,
  type DeliveryRequest,
  type EnvSource,
  type ExecutionContextLike,
} from "jobstash";
import { NodeHeaders, type NodeIncoming, readAll } from "./node-request.js";

/** On @hono/node-server `c.env` is `{ incoming, outgoing }`, not configuration. */
const isNodeServer = (env: object): env is { incoming: unknown; outgoing: unknown } =>
  "incoming" in env && "outgoing" in env;

function executionContext(c: Context): ExecutionContextLike | undefined {
  try {
    return c.executionCtx; // throws where the runtime has none (Node)
  } catch {
    return undefined;
  }
}

/**
 * A delivery on @hono/node-server read straight from Node's request. The server's lightweight
 * Request reads a body by listening on the same stream and then copying the bytes into a fresh
 * ArrayBuffer, and checks each header it is asked for against two patterns: together about a
 * tenth of a delivery's CPU under load (bench/adapters.bench.ts). Method and URL are the
 * Request's, as the server normalised them.
 */
class NodeServerDelivery implements DeliveryRequest {
  readonly headers: NodeHeaders;

  constructor(
    private readonly request: Request,
    private readonly incoming: NodeIncoming,
  ) {
    this.headers = new NodeHeaders(incoming.headers);
  }

  get method(): string {
    return this.request.method;
  }

  get url(): string {
    return this.request.url;
  }

  /** Read through the Request (a middleware's `c.req.json()`), or from the stream itself. */
  get bodyUsed(): boolean {
    return this.request.bodyUsed || this.incoming.readableDidRead === true;
  }

  arrayBuffer(): Promise<Uint8Array> {
    return readAll(this.incoming);
  }

  /** A body without a declared length is streamed through the Request, which counts as it reads. */
  get body(): ReadableStream<Uint8Array> | null {
    return this.request.body;
  }
}

/**
 * Node's request, where jobstash may read it itself: not where a host read it first and kept
 * the bytes as `rawBody` (Google Cloud Functions, Firebase), which the server's Request serves.
 */
function directlyReadable(incoming: unknown): incoming is NodeIncoming {
  return (
    typeof incoming === "object" &&
    incoming !== null &&
    typeof (incoming as { on?: unknown }).on === "function" &&
    !("rawBody" in incoming)
  );
}

/**
 * A Hono app serving every job: `app.route("/api/jobs", serve(jobs))`, on Node, Workers, Bun
 * and Deno. It is built with the app's own `hono` (a peer dependency, any 4.x), since
 * `app.route()` only type-checks with a Hono from the same copy.
 */
export function serve(jobs: AnyJobstash): Hono {
  const handler = createHandler(jobs);
  return new Hono().all("/*", (c) => {
    const env = c.env as EnvSource | undefined;
    // @hono/node-server never passes an execution context: skip the getter, whose throw (an
    // Error and its stack, per request) cost a quarter of the adapter's throughput.
    if (env && typeof env === "object" && isNodeServer(env)) {
      const { incoming } = env;
      return handler(directlyReadable(incoming) ? new NodeServerDelivery(c.req.raw, incoming) : c.req.raw);
    }
    return handler(c.req.raw, env && typeof env === "object" ? env : undefined, executionContext(c));
  });
}
