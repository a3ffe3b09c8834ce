/**
 * Reading the headers and the whole body of Node's `IncomingMessage`, for the Node bridge
 * (Express, the Pages Router) and jobstash/hono on @hono/node-server. It imports nothing, so
 * the Hono and Next.js adapters' edge bundles can carry it: only Node ever calls it.
 */

/** The part of Node's `IncomingMessage` a delivery is read through. */
export interface NodeIncoming {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly readableEnded: boolean;
  readonly readableDidRead?: boolean;
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  once(event: "end" | "close", listener: () => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  off(event: "data", listener: (chunk: Uint8Array) => void): unknown;
}

/**
 * `Headers.get` over the headers Node has already parsed: lower-case names, repeats joined with
 * ", " (set-cookie, an array, alike), as a Web `Headers` would answer, at the cost of a lookup.
 */
export class NodeHeaders {
  constructor(private readonly headers: NodeIncoming["headers"]) {}

  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  }
}

/**
 * The body as a Web stream, for bodies of unknown length that the core reads while counting.
 * What `Readable.toWeb` does, written here so this bridge needs no `node:stream` and the Next.js
 * adapter stays loadable on the Edge runtime: Node's stream pauses while the reader is behind.
 * A cancelled read (a body over the limit) lets the rest flow past unread, as Node does with any
 * body a handler ignores, so the connection stays usable for the 413 and what follows it.
 */
export function webStream(req: NodeIncoming): ReadableStream<Uint8Array> {
  let onData: (chunk: Uint8Array) => void;
  // Once cancelled the stream is closed, and closing or failing it again would throw.
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onData = (chunk) => {
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      };
      req.on("data", onData);
      req.once("end", () => cancelled || controller.close());
      req.once("error", (error) => cancelled || controller.error(error));
      req.once("close", () => {
        if (!cancelled && !req.readableEnded)
          controller.error(new Error("the connection closed before the body ended"));
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      cancelled = true;
      req.off("data", onData);
      req.resume();
    },
  });
}

/** Every byte of the body; rejects when the stream errors or closes before its end. */
export function readAll(req: NodeIncoming): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : concat(chunks)));
    req.once("error", reject);
    // A client that leaves mid-body makes Node emit "error" first; "close" alone is the backstop.
    req.once("close", () => {
      if (!req.readableEnded) reject(new Error("the connection closed before the body ended"));
    });
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
