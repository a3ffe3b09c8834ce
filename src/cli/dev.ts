import {
  type ConsoleOptions,
  createDevServer,
  DataError,
  DEFAULT_DEV_USER,
  type DevServer,
  type ListeningServer,
} from "jobstash/dev-server";
import { normalBaseUrl } from "../util/http-url.js";
import { InputError, OperationError } from "./errors.js";
import { formatEvent } from "./format-event.js";
import { loadConfig } from "./load-config.js";
import { EXAMPLE_BASE_URL, parseOptions } from "./shared.js";

const HELP = `Usage: jobstash dev [options]

Runs a QStash-compatible server for local development.

Options:
  -p, --port <n>         Port to listen on (default: $QSTASH_DEV_PORT or 8080)
      --host <addr>      Address to bind (default: 127.0.0.1)
      --retry-scale <x>  Multiply retry delays, e.g. 0.01 for fast retries (default: 1)
  -q, --quiet            Do not print one line per message event
  -c, --config <file>    Registry to sync on start (default: jobstash.config.ts if present)
      --base-url <url>   Where your app mounts the receiver, e.g. http://localhost:3000/api/jobs
                         (default: $JOBSTASH_BASE_URL); printed for the app, used by the sync
      --data <dir>       Keep state in <dir> across restarts and crashes (default:
                         $JOBSTASH_DEV_DATA; without either, state lives in memory)
      --persist          Short for --data .jobstash/dev
      --no-sync          Do not sync schedules, queues and flow-control keys on start
  -h, --help             Show this help

Prints the settings your app needs (QSTASH_URL, QSTASH_TOKEN, the signing keys and
JOBSTASH_BASE_URL) as KEY=value lines for a .env file or a shell, and serves the dev
console, a web UI of your jobs, messages, schedules, queues and DLQ, at <server>/console/.

Exit codes: 0 stopped by SIGINT or SIGTERM, 1 could not start (e.g. the port is in use), 2 bad input.`;

export interface StartDevOptions {
  port?: number;
  hostname?: string;
  retryScale?: number;
  /** Keep state in this directory. */
  dataDir?: string;
  /** One line per lifecycle event; undefined for silence. */
  log?: (line: string) => void;
  /** The console's registry and the settings it triggers with (see `createDevServer`). */
  console?: ConsoleOptions;
  /** Called once listening, with the server and its address (e.g. to sync schedules). */
  onReady?: (ready: { server: DevServer; listening: ListeningServer }) => void | Promise<void>;
}

/** Starts the dev server on a port; the CLI and anything embedding `jobstash dev` share this. */
export async function startDev(
  opts: StartDevOptions = {},
): Promise<{ server: DevServer; listening: ListeningServer }> {
  const log = opts.log;
  const server = createDevServer({
    retryScale: opts.retryScale,
    dataDir: opts.dataDir,
    logger: log ? (e) => log(formatEvent(e)) : undefined,
    console: opts.console,
  });
  const listening = await server.listen({ port: opts.port ?? 8080, hostname: opts.hostname ?? "127.0.0.1" });
  await opts.onReady?.({ server, listening });
  return { server, listening };
}

// Its home moved to format-event.ts (`jobstash logs` prints the same lines); kept here for importers.
export { formatEvent };

/** `jobstash dev: state in .jobstash/dev (restored 12 messages, 1 attempted again; 2 schedules)` */
export function describeData(dir: string, r: DevServer["restored"]): string {
  if (!r || (r.messages === 0 && r.schedules === 0 && r.dlq === 0))
    return `jobstash dev: state in ${dir} (empty)`;
  const parts = [`${r.messages} pending messages`];
  if (r.inFlight) parts.push(`${r.inFlight} in flight when it stopped, attempted again`);
  parts.push(`${r.schedules} schedules`);
  if (r.missedTicks) parts.push(`${r.missedTicks} cron ticks missed while stopped, skipped`);
  parts.push(`${r.dlq} in the DLQ`);
  return `jobstash dev: state in ${dir}, restored: ${parts.join(", ")}`;
}

export async function run(argv: string[]): Promise<number | undefined> {
  const values = parseOptions("dev", argv, {
    port: { type: "string", short: "p" },
    host: { type: "string" },
    "retry-scale": { type: "string" },
    quiet: { type: "boolean", short: "q" },
    config: { type: "string", short: "c" },
    "base-url": { type: "string" },
    "no-sync": { type: "boolean" },
    data: { type: "string" },
    persist: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const portSetting =
    values.port !== undefined ? "--port" : process.env.QSTASH_DEV_PORT ? "QSTASH_DEV_PORT" : "";
  const portText = values.port ?? (process.env.QSTASH_DEV_PORT || "8080");
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new InputError(`invalid port ${JSON.stringify(portText)}: use a number from 0 to 65535`);
  }
  const retryScale = values["retry-scale"] === undefined ? 1 : Number(values["retry-scale"]);
  if (!Number.isFinite(retryScale) || retryScale < 0) {
    throw new InputError(`invalid --retry-scale ${JSON.stringify(values["retry-scale"])}: use a number ≥ 0`);
  }
  const baseUrl = devBaseUrl(values["base-url"]);
  const hostname = values.host ?? "127.0.0.1";
  const dataDir =
    values.data ?? (values.persist ? ".jobstash/dev" : process.env.JOBSTASH_DEV_DATA || undefined);
  // Loaded once, for the console and the start-up sync alike; the server starts meanwhile. A
  // failure is reported by the sync (and shown on the console's Jobs page), never fatal.
  const registry = loadConfig(values.config);
  registry.catch(() => undefined);
  let started: Awaited<ReturnType<typeof startDev>>;
  try {
    started = await startDev({
      port,
      hostname,
      retryScale,
      dataDir,
      log: values.quiet ? undefined : (line) => console.log(line),
      console: {
        jobs: registry,
        env: baseUrl ? { ...process.env, JOBSTASH_BASE_URL: baseUrl } : process.env,
      },
    });
  } catch (error) {
    // The data directory cannot be used (held by another server, foreign files, a newer format).
    if (error instanceof DataError) throw new OperationError(error.message);
    throw listenError(error, hostname, port, portSetting);
  }
  const { server, listening } = started;
  if (dataDir) console.log(describeData(dataDir, server.restored));
  // Handlers go in before the env lines are printed: whoever reads those lines may signal at once.
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = (signal: string) => {
    console.log(`jobstash dev: ${signal}, shutting down`);
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    server.close().then(stopped, stopped);
  };
  const onInt = () => stop("SIGINT");
  const onTerm = () => stop("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  console.log(
    [
      `jobstash dev: QStash-compatible server on ${listening.url}`,
      `jobstash dev: console on ${listening.url}/console/ (open it in a browser)`,
      "",
      ...envLines(listening.url, baseUrl),
      "",
    ].join("\n"),
  );
  if (!values["no-sync"]) {
    const { syncOnStart } = await import("./dev-sync.js");
    await syncOnStart({
      config: values.config,
      registry,
      url: listening.url,
      baseUrl,
      log: (line) => console.log(line),
      warn: (line) => console.error(line),
    });
  }
  await done;
  return 0;
}

/**
 * What an app needs to talk to this server, as KEY=value lines that paste unchanged into a
 * .env file and into a shell: no spaces, nothing to quote, comments on lines of their own.
 */
function envLines(url: string, baseUrl: string | undefined): string[] {
  const user = DEFAULT_DEV_USER;
  return [
    "# Settings for your app (a .env file, or a shell after `set -a`):",
    `QSTASH_URL=${url}`,
    `QSTASH_TOKEN=${user.token}`,
    `QSTASH_CURRENT_SIGNING_KEY=${user.currentSigningKey}`,
    `QSTASH_NEXT_SIGNING_KEY=${user.nextSigningKey}`,
    baseUrl
      ? `JOBSTASH_BASE_URL=${baseUrl}`
      : `# JOBSTASH_BASE_URL=${EXAMPLE_BASE_URL}  <- set to where your app mounts the receiver (or pass --base-url)`,
  ];
}

/** The app's base URL from `--base-url` or JOBSTASH_BASE_URL, checked; undefined if neither is set. */
function devBaseUrl(flag: string | undefined): string | undefined {
  const raw = flag ?? process.env.JOBSTASH_BASE_URL;
  if (!raw) return undefined;
  const url = normalBaseUrl(raw);
  if (!url) {
    throw new InputError(
      `${flag === undefined ? "JOBSTASH_BASE_URL" : "--base-url"} ${JSON.stringify(raw)} must be an absolute http(s) URL without a query or fragment, where your app mounts the receiver, e.g. ${EXAMPLE_BASE_URL}`,
    );
  }
  return url;
}

/** A failure to listen, in words: a port in use says so and how to pick another. */
function listenError(error: unknown, hostname: string, port: number, portSetting: string): Error {
  const code = (error as { code?: string })?.code;
  const from = portSetting ? ` (${portSetting})` : "";
  if (code === "EADDRINUSE") {
    return new OperationError(
      `port ${port}${from} on ${hostname} is in use: stop what is using it, or pick another with --port <n> (--port 0 takes any free port)`,
    );
  }
  if (code === "EACCES") {
    return new OperationError(
      `not allowed to listen on port ${port}${from}: pick a port above 1023 with --port <n>`,
    );
  }
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return new OperationError(`cannot listen on --host ${hostname}: it is not an address of this machine`);
  }
  return new OperationError(`could not listen on ${hostname}:${port}: ${(error as Error)?.message ?? error}`);
}
