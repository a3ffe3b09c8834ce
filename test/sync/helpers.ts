import http from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type AnyJobstash, createHandler } from "jobstash";
import { createDevServer, DEFAULT_DEV_USER, type DevServer, VirtualClock } from "jobstash/dev-server";

/** One request that reached the QStash proxy. */
export interface SeenRequest {
  method: string;
  path: string;
  /** Status returned to the client (an injected failure included). */
  status: number;
}

/** Decide to fail a request instead of forwarding it (for 429/500 injection). */
export type Injector = (req: {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}) => { status: number; headers?: Record<string, string> } | undefined;

export interface SyncStack {
  server: DevServer;
  clock: VirtualClock;
  /** The QStash URL clients use: a counting, failure-injecting proxy in front of the dev server. */
  qstashUrl: string;
  requests: SeenRequest[];
  /** Requests since the last `reset()`, writes only (anything but GET). */
  writes(): SeenRequest[];
  reset(): void;
  inject(injector: Injector | undefined): void;
  /** The env a sync reads: QStash URL and token of the default dev user, the receiver's base URL. */
  bindings: Record<string, string>;
  /** Base URL of a running receiver that serves `jobstash` (set by `serveJobs`). */
  baseUrl: string;
  serveJobs(jobs: AnyJobstash): void;
  close(): Promise<void>;
}

/**
 * The dev server on a virtual clock (schedules fire when the test advances time), a proxy
 * in front of it that counts every request and can fail chosen ones, and a real HTTP
 * receiver running the jobstash handler. All on free ports.
 */
export async function startStack(): Promise<SyncStack> {
  // Starts at the real time: the receiver checks signature expiry against the real clock.
  const clock = new VirtualClock();
  const server = createDevServer({ clock });
  const dev = await server.listen({ port: 0 });
  const requests: SeenRequest[] = [];
  let mark = 0;
  let injector: Injector | undefined;

  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const method = req.method ?? "GET";
      const path = req.url ?? "/";
      const failure = injector?.({ method, path, headers: req.headers });
      if (failure) {
        requests.push({ method, path, status: failure.status });
        res.writeHead(failure.status, { "content-type": "application/json", ...failure.headers });
        res.end(JSON.stringify({ error: "injected" }));
        return;
      }
      try {
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined && name !== "host" && name !== "connection")
            headers.set(name, String(value));
        }
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const response = await fetch(`${dev.url}${path}`, { method, headers, body });
        const text = Buffer.from(await response.arrayBuffer());
        requests.push({ method, path, status: response.status });
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(text);
      } catch (error) {
        res.writeHead(502);
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const qstashUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  let handler: ((req: Request) => Promise<Response>) | undefined;
  const receiver = serve({
    fetch: (req: Request) =>
      handler ? handler(req) : Promise.resolve(new Response("no jobs", { status: 503 })),
    port: 0,
    hostname: "127.0.0.1",
  });
  await new Promise<void>((resolve) =>
    receiver.listening ? resolve() : receiver.once("listening", () => resolve()),
  );
  const baseUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/jobs`;

  return {
    server,
    clock,
    qstashUrl,
    requests,
    writes: () => requests.slice(mark).filter((r) => r.method !== "GET"),
    reset: () => {
      mark = requests.length;
    },
    inject: (i) => {
      injector = i;
    },
    bindings: {
      QSTASH_URL: qstashUrl,
      QSTASH_TOKEN: DEFAULT_DEV_USER.token,
      JOBSTASH_BASE_URL: baseUrl,
      QSTASH_CURRENT_SIGNING_KEY: DEFAULT_DEV_USER.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: DEFAULT_DEV_USER.nextSigningKey,
    },
    baseUrl,
    serveJobs: (jobs) => {
      const h = createHandler(jobs);
      handler = (req) => h(req, undefined);
    },
    close: async () => {
      await server.close();
      const closed = new Promise<void>((resolve) => proxy.close(() => resolve()));
      proxy.closeAllConnections();
      await closed;
      const stopped = new Promise<void>((resolve) => receiver.close(() => resolve()));
      (receiver as http.Server).closeAllConnections?.();
      await stopped;
    },
  };
}
