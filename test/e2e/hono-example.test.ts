import type { Server } from "node:http";
import { serve as listen } from "@hono/node-server";
import { Client } from "@upstash/qstash";
import { createDevServer, DEV_USERS, VirtualClock } from "jobstash/dev-server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/**
 * The whole path on real HTTP: the Hono example (examples/hono) triggers through the official
 * SDK into the jobstash dev server, which delivers signed requests back to the example's
 * receiver, retries, calls back, and keeps the DLQ. Time is virtual, so backoff and cron
 * ticks take no wall time.
 */
const user = DEV_USERS.defaultUser;
const clock = new VirtualClock();
const qstash = createDevServer({ clock });
const lines: string[] = [];
let appServer: Server;
let client: Client;
let appOrigin = "";

beforeAll(async () => {
  for (const level of ["info", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
  const { url } = await qstash.listen({ port: 0, hostname: "127.0.0.1" });
  const { app } = await import("../../examples/hono/app.js");
  appServer = await new Promise<Server>((resolve) => {
    const server = listen({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
      appOrigin = `http://127.0.0.1:${info.port}`;
      resolve(server as Server);
    });
  });
  // The example reads its configuration from the environment on each call, as in production.
  Object.assign(process.env, {
    QSTASH_URL: url,
    QSTASH_TOKEN: user.token,
    QSTASH_CURRENT_SIGNING_KEY: user.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: user.nextSigningKey,
    JOBSTASH_BASE_URL: `${appOrigin}/api/jobs`,
  });
  client = new Client({ baseUrl: url, token: user.token });
});

afterAll(async () => {
  await new Promise((resolve) => appServer?.close(resolve));
  await qstash.close();
  vi.restoreAllMocks();
});

/** Let virtual time pass (deliveries, callbacks, retries) until `check` holds. */
async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  stepMs = 1_000,
): Promise<T> {
  for (let i = 0; i < 2_000; i++) {
    const value = await check();
    if (value) return value;
    await clock.advance(stepMs);
  }
  throw new Error(`never happened: ${what}\n${lines.join("\n")}`);
}

const line = (pattern: RegExp) => () => lines.find((l) => pattern.test(l));

async function signup(email: string, name: string): Promise<string> {
  const response = await fetch(`${appOrigin}/signup`, {
    method: "POST",
    body: JSON.stringify({ email, name }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { messageId: string }).messageId;
}

describe("the Hono example on the jobstash dev server", () => {
  it("delivers a triggered job, verified, and its success callback reaches onSuccess", async () => {
    const messageId = await signup("ada@example.com", "Ada");
    await until("onSuccess", line(/onSuccess: welcome mail for Ada delivered to ada@example.com/));
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`\\[jobstash send-welcome ${messageId}\\] attempt 1/3`)),
    );
    const { logs } = await client.logs({ filter: { messageId } });
    expect(logs.map((log) => log.state)).toContain("DELIVERED");
  });

  it("retries a failing job until it gives up, then runs onFailure with the DLQ id", async () => {
    const messageId = await signup("bob@fail.test", "Bob");
    const failure = await until("onFailure", line(/onFailure: gave up on bob@fail.test/));
    expect(lines.filter((l) => l.includes(`[jobstash send-welcome ${messageId}] attempt`))).toHaveLength(3);
    const { messages } = await client.dlq.listMessages({ filter: { messageId } });
    expect(messages).toHaveLength(1);
    expect(failure).toContain("after 2 retries (Error: mail server refused bob@fail.test)");
    expect(failure).toContain(`DLQ ${messages[0]!.dlqId}`);
  });

  it("sends a non-retryable failure to the DLQ after one attempt", async () => {
    const { jobs } = await import("../../examples/shared/jobs.js");
    const messageId = await jobs.trigger("verify-address", { email: "nobody" });
    const dlq = await until(
      "DLQ entry",
      async () => (await client.dlq.listMessages({ filter: { messageId } })).messages[0],
    );
    expect(dlq.responseStatus).toBe(489);
    expect(dlq.responseBody).toContain('\\"nobody\\" is not an email address');
    const { logs } = await client.logs({ filter: { messageId } });
    expect(logs.filter((log) => log.state === "RETRY")).toEqual([]);
  });

  it("fires a cron schedule into the job with its schedule id", async () => {
    const { jobs } = await import("../../examples/shared/jobs.js");
    const { scheduleId } = await client.schedules.create({
      destination: jobs.url("heartbeat"),
      cron: "* * * * *",
      body: JSON.stringify({ source: "cron" }),
    });
    await until("a heartbeat", line(new RegExp(`beat from cron \\(schedule ${scheduleId}\\)`)), 10_000);
  });
});
