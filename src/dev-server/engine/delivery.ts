import http from "node:http";
import https from "node:https";

export interface DeliveryRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  timeoutMs: number;
}

export type DeliveryResult =
  | { ok: true; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }
  | { ok: false; error: string };

/** Response bodies past this are cut: they only feed logs, callbacks and the DLQ. */
const MAX_RESPONSE_BYTES = 1 << 20;

/**
 * Sends deliveries over keep-alive agents. A fetch per message tops out far lower on Node
 * (undici's per-request overhead), while `node:http` reuses sockets cheaply.
 */
export class Deliverer {
  readonly #http: http.Agent;
  readonly #https: https.Agent;

  constructor(maxSockets = 256) {
    this.#http = new http.Agent({ keepAlive: true, maxSockets, scheduling: "lifo" });
    this.#https = new https.Agent({ keepAlive: true, maxSockets, scheduling: "lifo" });
  }

  send(req: DeliveryRequest): Promise<DeliveryResult> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        resolve({ ok: false, error: `invalid URL ${req.url}` });
        return;
      }
      const secure = url.protocol === "https:";
      const headers: Record<string, string | number> = { ...req.headers };
      if (req.body) headers["Content-Length"] = req.body.length;
      else if (req.method !== "GET" && req.method !== "HEAD") headers["Content-Length"] = 0;
      let done = false;
      const finish = (result: DeliveryResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(result);
      };
      const request = (secure ? https : http).request(
        url,
        { method: req.method, headers, agent: secure ? this.#https : this.#http },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
            size += chunk.length;
          });
          res.on("end", () =>
            finish({
              ok: true,
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
          res.on("error", (e) => finish({ ok: false, error: e.message }));
        },
      );
      const timer = setTimeout(() => {
        request.destroy();
        finish({ ok: false, error: `request timed out after ${req.timeoutMs}ms` });
      }, req.timeoutMs);
      request.on("error", (e: NodeJS.ErrnoException) =>
        finish({ ok: false, error: e.code ? `${e.code}: ${e.message}` : e.message }),
      );
      request.end(req.body);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
