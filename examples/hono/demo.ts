// `npm start`: the whole loop on one machine, no account needed.
//   1. the jobstash dev server (QStash-compatible) on 127.0.0.1:8080
//   2. the Hono example app on 127.0.0.1:3000, receiving jobs at /api/jobs
//   3. `jobstash sync`: the example's cron schedules created on the dev server
//   4. two jobs triggered: one that succeeds (with its onSuccess callback), one that fails for good
// It keeps running so the every-minute heartbeat cron fires; Ctrl-C stops it.
// `--once` exits after step 4 (the test suite runs it that way).
import type { Server } from "node:http";
import { styleText } from "node:util";
import { serve } from "@hono/node-server";
import { Client } from "@upstash/qstash";
import { DEV_USERS } from "jobstash/dev-server";
import { formatPlan, syncJobstash } from "jobstash/sync";
import { startDev } from "../../src/cli/dev.js";
import { jobs } from "../shared/jobs.js";
import { app } from "./app.js";

const once = process.argv.includes("--once");
const tag = (name: string, color: "magenta" | "cyan" | "yellow") => styleText(color, name.padEnd(7));
const say = (line: string) => console.log(`${tag("demo", "yellow")}${line}`);

/** Listen on the preferred port, or any free one if it is taken. */
async function withFallback<T>(preferred: number, start: (port: number) => Promise<T>): Promise<T> {
  try {
    return await start(preferred);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    say(`port ${preferred} is busy; using a free one`);
    return start(0);
  }
}

const user = DEV_USERS.defaultUser;
const { server: qstash, listening } = await withFallback(
  Number(process.env.QSTASH_DEV_PORT ?? 8080),
  (port) =>
    startDev({ port, retryScale: 0.01, log: (line) => console.log(`${tag("qstash", "magenta")}${line}`) }),
);

const appServer = await withFallback(
  Number(process.env.PORT ?? 3000),
  (port) =>
    new Promise<{ server: Server; origin: string }>((resolve, reject) => {
      const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) =>
        resolve({ server: server as Server, origin: `http://127.0.0.1:${info.port}` }),
      ) as Server;
      server.once("error", reject);
    }),
);

// What a deployment sets in its environment; jobstash reads it per call and per request.
Object.assign(process.env, {
  QSTASH_URL: listening.url,
  QSTASH_TOKEN: user.token,
  QSTASH_CURRENT_SIGNING_KEY: user.currentSigningKey,
  QSTASH_NEXT_SIGNING_KEY: user.nextSigningKey,
  JOBSTASH_BASE_URL: `${appServer.origin}/api/jobs`,
});
say(`dev server ${listening.url}, app ${appServer.origin}, jobs at ${process.env.JOBSTASH_BASE_URL}`);

// Job hooks log through console: tag their lines as the app's, and let the demo wait for them.
const listeners = new Set<(line: string) => void>();
for (const level of ["info", "warn"] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    const line = args.map(String).join(" ");
    original(`${tag("app", "cyan")}${line}`);
    for (const listener of listeners) listener(line);
  };
}
const seen = (pattern: RegExp, timeoutMs = 20_000) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const listener = (line: string) => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      listeners.delete(listener);
      resolve();
    };
    listeners.add(listener);
  });

const { plan } = await syncJobstash(jobs, { env: "development" });
console.log(formatPlan(plan));

say(`POST /signup {"email":"ada@example.com","name":"Ada"} -> jobs.trigger("send-welcome", ...)`);
const welcomed = seen(/onSuccess: welcome mail for Ada/);
await fetch(`${appServer.origin}/signup`, {
  method: "POST",
  body: JSON.stringify({ email: "ada@example.com", name: "Ada" }),
});
await welcomed;

say(`jobs.trigger("verify-address", { email: "nobody" }): fails for good, straight to the DLQ`);
const messageId = await jobs.trigger("verify-address", { email: "nobody" });
const client = new Client({ baseUrl: listening.url, token: user.token });
const deadline = Date.now() + 20_000;
while ((await client.dlq.listMessages({ filter: { messageId } })).messages.length === 0) {
  if (Date.now() > deadline) throw new Error(`message ${messageId} never reached the DLQ`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
say(`message ${messageId} is in the dead-letter queue`);

if (once) {
  say("done.");
  await new Promise((resolve) => appServer.server.close(resolve));
  await qstash.close();
  process.exit(0);
}
say("the heartbeat cron fires every minute; Ctrl-C to stop.");
const stop = async () => {
  await qstash.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
