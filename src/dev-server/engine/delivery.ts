import http from "node:http";
import https from "node:https";

/** One attempt as it goes out: what a {@link Sender} sends. */
export interface OutgoingRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  timeoutMs: number;
}

/** What came back: a response (any status), or why there was none. */
export type DeliveryResult =
  | {
      ok: true;
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: Buffer;
      /** Set when the body was cut: its full length in bytes (`body` holds the first bytes). */
      truncatedFrom?: number;
    }
  | { ok: false; error: string };

/** Sends attempts; the engine does not care how (the harness hands them to a handler in process). */
export interface Sender {
  send(request: OutgoingRequest): Promise<DeliveryResult>;
  close(): void;
}

/**
 * Sends deliveries over keep-alive agents. A fetch per message tops out far lower on Node
 * (undici's per-request overhead), while `node:http` reuses sockets cheaply.
 */
interface Target {
  secure: boolean;
  hostname: string;
  port: string;
  path: string;
}

interface Pending {
  deadline: number;
  abort: () => void;
}

export class Deliverer implements Sender {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  /** Parsed destinations: a handful of URLs take nearly all deliveries. */
  readonly #targets = new Map<string, Target>();
  /** In-flight requests by deadline, swept by one interval instead of a timer per request. */
  readonly #pending = new Set<Pending>();
  #sweeper: NodeJS.Timeout | undefined;
  #sweepEvery = Number.POSITIVE_INFINITY;

  /**
   * @param maxResponseBytes Response bytes kept; past this a body is cut (QStash too cuts
   * response bodies over the plan's message size). They feed logs, callbacks and the DLQ.
   */
  constructor(
    maxSockets = 256,
    readonly maxResponseBytes = 10 * 1024 * 1024,
  ) {
    this.#http = new http.Agent({ keepAlive: true, maxSockets, scheduling: "lifo" });
    this.#https = new https.Agent({ keepAlive: true, maxSockets, scheduling: "lifo" });
  }

  #target(raw: string): Target | undefined {
    let t = this.#targets.get(raw);
    if (t) return t;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return undefined;
    }
    t = {
      secure: url.protocol === "https:",
      hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port,
      path: url.pathname + url.search,
    };
    if (this.#targets.size > 1000) this.#targets.clear();
    this.#targets.set(raw, t);
    return t;
  }

  #sweep(): void {
    const now = Date.now();
    for (const p of this.#pending) if (p.deadline <= now) p.abort();
    if (this.#pending.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      this.#sweepEvery = Number.POSITIVE_INFINITY;
    }
  }

  send(req: OutgoingRequest): Promise<DeliveryResult> {
    return new Promise((resolve) => {
      const target = this.#target(req.url);
      if (!target) {
        resolve({ ok: false, error: `invalid URL ${req.url}` });
        return;
      }
      const secure = target.secure;
      const headers: Record<string, string | number> = req.headers;
      if (req.body) headers["Content-Length"] = req.body.length;
      else if (req.method !== "GET" && req.method !== "HEAD") headers["Content-Length"] = 0;
      let done = false;
      const pending: Pending = {
        deadline: Date.now() + req.timeoutMs,
        abort: () => {
          request.destroy();
          finish({ ok: false, error: `request timed out after ${req.timeoutMs}ms` });
        },
      };
      const finish = (result: DeliveryResult) => {
        if (done) return;
        done = true;
        this.#pending.delete(pending);
        resolve(result);
      };
      this.#pending.add(pending);
      // Sweep at a quarter of the shortest timeout in flight (10-250 ms), so a short
      // Upstash-Timeout is not overshot by much.
      const every = Math.min(250, Math.max(10, req.timeoutMs / 4));
      if (every < this.#sweepEvery) {
        if (this.#sweeper) clearInterval(this.#sweeper);
        this.#sweepEvery = every;
        this.#sweeper = setInterval(() => this.#sweep(), every);
        this.#sweeper.unref();
      }
      const request = (secure ? https : http).request(
        {
          hostname: target.hostname,
          port: target.port,
          path: target.path,
          method: req.method,
          headers,
          agent: secure ? this.#https : this.#http,
        },
        (res) => {
          const chunks: Buffer[] = [];
          const max = this.maxResponseBytes;
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            if (size < max) chunks.push(size + chunk.length > max ? chunk.subarray(0, max - size) : chunk);
            size += chunk.length;
          });
          res.on("end", () =>
            finish({
              ok: true,
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
              ...(size > max && { truncatedFrom: size }),
            }),
          );
          res.on("error", (e) => finish({ ok: false, error: e.message }));
        },
      );
      request.on("error", (e: NodeJS.ErrnoException) =>
        finish({ ok: false, error: e.code ? `${e.code}: ${e.message}` : e.message }),
      );
      request.end(req.body);
    });
  }

  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#http.destroy();
    this.#https.destroy();
  }
}
