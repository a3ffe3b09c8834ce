import { parseArgs } from "node:util";
import {
  createDevServer,
  DEFAULT_DEV_USER,
  type DevServer,
  type LifecycleEvent,
  type ListeningServer,
} from "jobstash/dev-server";

const HELP = `Usage: jobstash dev [options]

Runs a QStash-compatible server for local development.

Options:
  -p, --port <n>         Port to listen on (default: $QSTASH_DEV_PORT or 8080)
      --host <addr>      Address to bind (default: 127.0.0.1)
      --retry-scale <x>  Multiply retry delays, e.g. 0.01 for fast retries (default: 1)
  -q, --quiet            Do not print one line per message event
  -c, --config <file>    Registry to sync on start (default: jobstash.config.ts if present)
      --data <dir>       Keep state in <dir> across restarts and crashes (default: $JOBSTASH_DEV_DATA;
                         without it, state lives in memory)
      --persist          Short for --data .jobstash/dev
      --no-sync          Do not sync schedules, queues and flow-control keys on start
  -h, --help             Show this help`;

export interface StartDevOptions {
  port?: number;
  hostname?: string;
  retryScale?: number;
  /** Keep state in this directory. */
  dataDir?: string;
  /** One line per lifecycle event; undefined for silence. */
  log?: (line: string) => void;
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
  });
  const listening = await server.listen({ port: opts.port ?? 8080, hostname: opts.hostname ?? "127.0.0.1" });
  await opts.onReady?.({ server, listening });
  return { server, listening };
}

/** `12:00:01.234 DELIVERED msg_abc → http://… (200, retried 0/3)` */
export function formatEvent(e: LifecycleEvent): string {
  const time = new Date(e.time).toISOString().slice(11, 23);
  const parts = [`${time} ${e.state.padEnd(16)} ${e.messageId} → ${e.url}`];
  const details: string[] = [];
  if (e.callbackOf) details.push(e.callbackOf);
  if (e.queueName) details.push(`queue ${e.queueName}`);
  if (e.scheduleId) details.push(`schedule ${e.scheduleId}`);
  if (e.status !== undefined) details.push(String(e.status));
  if (e.error && e.status === undefined) details.push(e.error);
  if (e.state !== "CREATED") details.push(`retried ${e.retried}/${e.maxRetries}`);
  if (e.nextDeliveryTime !== undefined)
    details.push(`next at ${new Date(e.nextDeliveryTime).toISOString().slice(11, 19)}`);
  if (details.length) parts.push(`(${details.join(", ")})`);
  return parts.join(" ");
}

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
  let values: {
    port?: string;
    host?: string;
    "retry-scale"?: string;
    quiet?: boolean;
    config?: string;
    "no-sync"?: boolean;
    data?: string;
    persist?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", short: "p" },
        host: { type: "string" },
        "retry-scale": { type: "string" },
        quiet: { type: "boolean", short: "q" },
        config: { type: "string", short: "c" },
        "no-sync": { type: "boolean" },
        data: { type: "string" },
        persist: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`jobstash dev: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const portText = values.port ?? process.env.QSTASH_DEV_PORT ?? "8080";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`jobstash dev: invalid port ${JSON.stringify(portText)}: use a number from 0 to 65535`);
    return 2;
  }
  const retryScale = values["retry-scale"] === undefined ? 1 : Number(values["retry-scale"]);
  if (!Number.isFinite(retryScale) || retryScale < 0) {
    console.error(
      `jobstash dev: invalid --retry-scale ${JSON.stringify(values["retry-scale"])}: use a number ≥ 0`,
    );
    return 2;
  }
  const dataDir =
    values.data ?? (values.persist ? ".jobstash/dev" : process.env.JOBSTASH_DEV_DATA || undefined);
  let started: Awaited<ReturnType<typeof startDev>>;
  try {
    started = await startDev({
      port,
      hostname: values.host,
      retryScale,
      dataDir,
      log: values.quiet ? undefined : (line) => console.log(line),
    });
  } catch (error) {
    if ((error as Error).name !== "DataError") throw error;
    console.error(`jobstash dev: ${(error as Error).message}`);
    return 1;
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
  const u = DEFAULT_DEV_USER;
  console.log(
    [
      `jobstash dev: QStash-compatible server on ${listening.url}`,
      "",
      `QSTASH_URL=${listening.url}`,
      `QSTASH_TOKEN=${u.token}`,
      `QSTASH_CURRENT_SIGNING_KEY=${u.currentSigningKey}`,
      `QSTASH_NEXT_SIGNING_KEY=${u.nextSigningKey}`,
      "",
    ].join("\n"),
  );
  if (!values["no-sync"]) {
    const { syncOnStart } = await import("./dev-sync.js");
    await syncOnStart({ config: values.config, url: listening.url, log: (line) => console.log(line) });
  }
  await done;
  return 0;
}
