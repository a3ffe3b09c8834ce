import { type ConsoleOptions, registerConsole } from "./console/index.js";
import { type Clock, RealClock, VirtualClock } from "./engine/clock.js";
import { Engine, type RestoreSummary } from "./engine/engine.js";
import type { LifecycleEvent } from "./engine/logs.js";
import { DurableStore } from "./engine/store/durable.js";
import { DataError } from "./engine/store/replay.js";
import { DEFAULT_DEV_USER, DEV_USERS, type DevUser } from "./engine/users.js";
import { type ListeningServer, listenApp } from "./node.js";
import { createApp } from "./routes/app.js";

// What users need: the server, its clocks, the dev users' credentials, the event type of the
// `logger` option and the error of an unusable `dataDir`. The engine's parts are internal;
// they change without notice.
export type { Clock, ConsoleOptions, DevUser, LifecycleEvent, ListeningServer, RestoreSummary };
export { DataError, DEFAULT_DEV_USER, DEV_USERS, RealClock, VirtualClock };

/** Options of {@link createDevServer}. */
export interface CreateDevServerOptions {
  /**
   * Where time comes from. Pass a {@link VirtualClock} to step through delays, backoff and cron
   * ticks instantly in tests.
   * @default new RealClock()
   */
  clock?: Clock;
  /**
   * Multiplies every retry delay (default backoff, `Upstash-Retry-Delay`, `Retry-After`).
   * `0.001` turns QStash's 12 s / 2.5 min / 30 min backoff into milliseconds for local work.
   * @default 1
   */
  retryScale?: number;
  /**
   * Largest accepted request body, in bytes; larger ones get 413. Also the most of a response
   * body kept for logs, callbacks and the DLQ: a longer one is cut (QStash cuts at the plan's
   * message size), and the callback says so in a `jobstashBodyTruncated: { size, kept }` field.
   * @default 10_485_760 (10 MiB)
   */
  maxBodySize?: number;
  /**
   * Largest `Upstash-Retries` accepted.
   * @default 100
   */
  maxRetries?: number;
  /**
   * Per-attempt HTTP timeout when a message sets no `Upstash-Timeout`, in ms; also the largest
   * `Upstash-Timeout` accepted.
   * @default 900_000 (15 minutes)
   */
  timeoutMs?: number;
  /**
   * Log entries kept per user (oldest dropped first).
   * @default 10_000
   */
  maxLogsPerUser?: number;
  /**
   * How long a deduplication id or content hash is remembered, in ms.
   * @default 600_000 (10 minutes, as the QStash docs say)
   */
  dedupWindowMs?: number;
  /**
   * Called once per lifecycle event (CREATED, ACTIVE, DELIVERED, ERROR, RETRY, FAILED,
   * CANCEL_REQUESTED, CANCELLED), synchronously. The CLI prints one line per event.
   * @default undefined (silent)
   */
  logger?: (event: LifecycleEvent) => void;
  /**
   * The users (tokens and signing keys) the server accepts; state is isolated per token.
   * @default the four QStash dev users ({@link DEV_USERS})
   */
  users?: readonly DevUser[];
  /**
   * Keep the state in this directory (created when missing), so a restart, or a crash, loses
   * nothing the API acknowledged: every request that changes state is answered only once its
   * change is synced to disk. Without it, state lives in memory. One server per directory:
   * `createDevServer` throws a `DataError` saying what to do when the directory is held by
   * another server, holds files that are not jobstash's, or cannot be read or written.
   * @default undefined (memory only)
   */
  dataDir?: string;
  /**
   * Where notices about the data directory go (a torn tail recovered, a disk that cannot be
   * written).
   * @default console.warn
   */
  onWarning?: (message: string) => void;
  /**
   * The dev console, a web UI at `/console/` on the server's address (a browser opening `/` is
   * sent there): the app's jobs with their schemas, a Trigger form, live messages with each
   * one's attempts, schedules, queues, flow control, the DLQ with Edit and retry, and the event
   * stream. Pass the registry to see jobs by name and validate against their schemas.
   *
   * @example
   * createDevServer({ console: { jobs, env: { JOBSTASH_BASE_URL: "http://localhost:3000/api/jobs" } } });
   * @default { } (the console, without a registry)
   */
  console?: ConsoleOptions;
  /** Journal size past which a snapshot replaces it (tests use a small one). @internal @default 64 MiB */
  compactBytes?: number;
}

/** The dev server's API as a fetch handler (it is a Hono app inside). */
export interface DevServerApp {
  fetch(request: Request): Response | Promise<Response>;
  /** A request to a path (or URL) of the API, answered in process. */
  request(input: string | URL | Request, init?: RequestInit): Response | Promise<Response>;
}

/** A local QStash-compatible server. */
export interface DevServer {
  /**
   * The server's HTTP API in process, with no port: `await server.app.request("/v2/...")`.
   * Typed by shape rather than as a Hono app, so apps without hono type-check.
   */
  app: DevServerApp;
  /**
   * Resolves once every accepted message (callbacks included) is delivered, failed or
   * cancelled. With the real clock this waits out delays and retry backoff, so pair it with
   * `retryScale` in end-to-end tests; with a {@link VirtualClock}, advance the clock.
   *
   * @example
   * await client.publishJSON({ url, body });
   * await server.drained();
   */
  drained(): Promise<void>;
  /** Messages accepted and not yet delivered, failed or cancelled, across users. */
  pendingCount(): number;
  /** What a restart found in `dataDir`; undefined in memory. */
  readonly restored: RestoreSummary | undefined;
  /** Binds a real port (default 0 = a free one) on 127.0.0.1 unless `hostname` says otherwise. */
  listen(opts?: { port?: number; hostname?: string }): Promise<ListeningServer>;
  /** Stops the engine's timers, closes every listener opened by `listen`, and syncs `dataDir`. */
  close(): Promise<void>;
}

/**
 * Creates a QStash-compatible server. The official `@upstash/qstash` `Client` works against it
 * unchanged (`baseUrl` = the listen URL, `token` = a dev user's token), and its deliveries
 * verify with the stock `Receiver` and that user's signing keys.
 *
 * @example
 * const server = createDevServer({ retryScale: 0.001 });
 * const { url } = await server.listen({ port: 0 });
 * const client = new Client({ baseUrl: url, token: DEV_USERS.defaultUser.token });
 * await client.publishJSON({ url: "http://127.0.0.1:3000/api/jobs/x", body: { hello: "world" } });
 */
export function createDevServer(options: CreateDevServerOptions = {}): DevServer {
  const clock = options.clock ?? new RealClock();
  const store = options.dataDir
    ? DurableStore.open({
        dir: options.dataDir,
        warn: options.onWarning ?? ((line) => console.warn(line)),
        compactBytes: options.compactBytes,
      })
    : undefined;
  const timeoutMs = options.timeoutMs ?? 900_000;
  const maxBodySize = options.maxBodySize ?? 10 * 1024 * 1024;
  const engine = new Engine({
    clock,
    users: options.users ?? Object.values(DEV_USERS),
    retryScale: options.retryScale ?? 1,
    limits: { maxRetries: options.maxRetries ?? 100, maxTimeoutMs: timeoutMs, maxDelayMs: 365 * 86_400_000 },
    defaultTimeoutMs: timeoutMs,
    maxLogsPerUser: options.maxLogsPerUser ?? 10_000,
    dedupWindowMs: options.dedupWindowMs ?? 600_000,
    maxResponseBytes: maxBodySize,
    logger: options.logger,
    store,
  });
  let restored: RestoreSummary | undefined;
  try {
    restored = engine.restore();
  } catch (error) {
    void engine.close();
    throw error;
  }
  const detach = clock instanceof VirtualClock ? clock.onSettle(() => engine.idle()) : undefined;
  const app = createApp({ engine, maxBodySize, durable: store !== undefined });
  registerConsole(app, engine, options.console);
  const listeners = new Set<ListeningServer>();
  return {
    app,
    drained: () => engine.drained(),
    pendingCount: () => engine.pendingCount(),
    restored,
    async listen(opts = {}) {
      const l = await listenApp(app, opts);
      listeners.add(l);
      return {
        ...l,
        close: async () => {
          listeners.delete(l);
          await l.close();
        },
      };
    },
    async close() {
      detach?.();
      await Promise.all([...listeners].map((l) => l.close()));
      listeners.clear();
      await engine.close();
    },
  };
}
