/**
 * Reading the headers and the whole body of Node's `IncomingMessage`, for the Node bridge
 * (Express, the Pages Router) and jobstash/hono on @hono/node-server. It imports nothing, so
 * the Hono adapter's Workers bundle can carry it: only Node ever calls it.
 */

/** The part of Node's `IncomingMessage` a delivery is read through. */
export interface NodeIncoming {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly readableEnded: boolean;
  readonly readableDidRead?: boolean;
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  once(event: "end" | "close", listener: () => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
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
