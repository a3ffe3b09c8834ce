import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@upstash/qstash";
import { createDevServer, DataError, DEV_USERS, type DevServer, VirtualClock } from "jobstash/dev-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Delivery, type Reply, startReceiver, type TestReceiver } from "./helpers.js";

// Restarts of a server with a data directory, in process: close it, open another on the same
// directory, and everything the API acknowledged is there. (Crashes with SIGKILL are in
// crash.test.ts.) Time is virtual, so a restart can also jump past due times.
const user = DEV_USERS.defaultUser;
let dir: string;
let server: DevServer | undefined;
let receiver: TestReceiver | undefined;
let warnings: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "jobstash-data-"));
  warnings = [];
});

afterEach(async () => {
  await server?.close();
  await receiver?.close();
  server = undefined;
  receiver = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function open(clock: VirtualClock, options: { compactBytes?: number } = {}): DevServer {
  server = createDevServer({ clock, dataDir: dir, onWarning: (w) => warnings.push(w), ...options });
  return server;
}

async function restart(clock: VirtualClock): Promise<DevServer> {
  await server!.close();
  return open(clock);
}

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await server!.app.request(path, {
    method,
    headers: { authorization: `Bearer ${user.token}`, ...headers },
    body,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function receive(reply: (d: Delivery) => Reply | Promise<Reply> = () => ({})) {
  receiver = await startReceiver(reply);
  return receiver;
}

const paths = (r: TestReceiver) => r.deliveries.map((d) => d.path);

/** A receiver that takes 5 ms per delivery and counts the most it had in hand at once. */
async function receiveCounting() {
  let active = 0;
  let most = 0;
  const r = await receive(async () => {
    most = Math.max(most, ++active);
    await new Promise((resolve) => setTimeout(resolve, 5));
    active--;
    return {};
  });
  return { r, most: () => most };
}

describe("a restart keeps what the API acknowledged", () => {
  it("delayed messages, queues, schedules, URL groups, flow-control pins, the DLQ, logs, dedup ids and rotated keys", async () => {
    const t0 = Date.now();
    const clock = new VirtualClock(t0);
    const r = await receive((d) =>
      d.path === "/dead" ? { status: 489, headers: { "Upstash-NonRetryable-Error": "true" } } : {},
    );
    open(clock);
    const delayed = await call("POST", `/v2/publish/${r.url}/later`, '{"n":1}', {
      "upstash-delay": "1h",
      "upstash-forward-x-tenant": "t1",
    });
    await call("POST", "/v2/queues", JSON.stringify({ queueName: "emails", parallelism: 3, paused: true }));
    const queued = await call("POST", `/v2/enqueue/emails/${r.url}/q`, "q1");
    const sched = await call("POST", `/v2/schedules/${r.url}/tick`, "tick", {
      "upstash-cron": "*/5 * * * *",
    });
    await call("PATCH", `/v2/schedules/${sched.scheduleId}/pause`);
    await call(
      "POST",
      "/v2/topics/team/endpoints",
      JSON.stringify({ endpoints: [{ name: "a", url: `${r.url}/a` }] }),
    );
    await call("POST", `/v2/publish/${r.url}/flow`, "f", {
      "upstash-flow-control-key": "mail",
      "upstash-flow-control-value": "parallelism=2",
      "upstash-delay": "1h",
    });
    await call("POST", "/v2/flowControl/mail/pin?parallelism=1");
    const dead = await call("POST", `/v2/publish/${r.url}/dead`, "x");
    const dedup = await call("POST", `/v2/publish/${r.url}/once`, "o", {
      "upstash-deduplication-id": "d1",
      "upstash-delay": "1h",
    });
    const keys = await call("POST", "/v2/keys/rotate", undefined, {
      authorization: `Bearer ${DEV_USERS.testUser1.token}`,
    });
    await clock.advance(0);
    expect(paths(r)).toEqual(["/dead"]);

    await restart(clock);
    expect(server!.restored).toMatchObject({ messages: 4, inFlight: 0, schedules: 1, dlq: 1 });
    const msg = await call("GET", `/v2/messages/${delayed.messageId}`);
    expect(msg).toMatchObject({
      body: '{"n":1}',
      header: { "X-Tenant": ["t1"] },
      notBefore: expect.any(Number),
    });
    expect(await call("GET", "/v2/queues/emails")).toMatchObject({ parallelism: 3, paused: true, lag: 1 });
    expect(await call("GET", `/v2/messages/${queued.messageId}`)).toMatchObject({ queueName: "emails" });
    expect(await call("GET", `/v2/schedules/${sched.scheduleId}`)).toMatchObject({
      isPaused: true,
      cron: "*/5 * * * *",
    });
    expect(await call("GET", "/v2/topics/team")).toMatchObject({
      endpoints: [{ name: "a", url: `${r.url}/a` }],
    });
    expect(await call("GET", "/v2/flowControl/mail")).toMatchObject({
      parallelismMax: 1,
      isPinnedParallelism: true,
    });
    const dlq = await call("GET", "/v2/dlq");
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.messages[0]).toMatchObject({ messageId: dead.messageId, responseStatus: 489 });
    const logs = await call("GET", `/v2/logs?messageId=${dead.messageId}`);
    expect(logs.logs.map((l: { state: string }) => l.state).sort()).toEqual([
      "ACTIVE",
      "CREATED",
      "ERROR",
      "FAILED",
    ]);
    const again = await call("POST", `/v2/publish/${r.url}/once`, "o", { "upstash-deduplication-id": "d1" });
    expect(again.messageId).toBe(dedup.messageId);
    expect(
      await call("GET", "/v2/keys", undefined, { authorization: `Bearer ${DEV_USERS.testUser1.token}` }),
    ).toEqual(keys);

    // And the restarted server goes on: the DLQ retries, the delayed message comes due.
    await call("POST", `/v2/dlq/retry/${dlq.messages[0].dlqId}`);
    await clock.advanceTo(t0 + 3_600_000 + 1000);
    expect(paths(r).filter((p) => p === "/later")).toHaveLength(1);
    expect(paths(r).filter((p) => p === "/dead")).toHaveLength(2);
  });

  it("a delay that passed while the server was down fires at once; a later one at its own time", async () => {
    const t0 = Date.now();
    const r = await receive();
    open(new VirtualClock(t0));
    await call("POST", `/v2/publish/${r.url}/soon`, "s", { "upstash-delay": "10s" });
    await call("POST", `/v2/publish/${r.url}/later`, "l", { "upstash-delay": "1h" });
    const clock = new VirtualClock(t0 + 60_000);
    await restart(clock);
    await clock.advance(0);
    expect(paths(r)).toEqual(["/soon"]);
    await clock.advanceTo(t0 + 3_600_000 - 1000);
    expect(paths(r)).toEqual(["/soon"]);
    await clock.advanceTo(t0 + 3_600_000 + 1000);
    expect(paths(r)).toEqual(["/soon", "/later"]);
  });

  it("a retry keeps its attempt count and its time", async () => {
    const t0 = Date.now();
    let fail = true;
    const r = await receive(() => (fail ? { status: 500 } : {}));
    let clock = new VirtualClock(t0);
    open(clock);
    await call("POST", `/v2/publish/${r.url}/flaky`, "x", {
      "upstash-retries": "3",
      "upstash-retry-delay": "60000",
    });
    await clock.advance(0);
    expect(r.deliveries).toHaveLength(1);
    fail = false;
    clock = new VirtualClock(t0 + 30_000);
    await restart(clock);
    await clock.advance(29_000);
    expect(r.deliveries).toHaveLength(1);
    await clock.advance(2000);
    expect(r.deliveries).toHaveLength(2);
    expect(r.deliveries[1]!.headers["upstash-retried"]).toBe("1");
  });

  it("a FIFO queue keeps its order and its parallelism across a restart", async () => {
    const t0 = Date.now();
    const { r, most } = await receiveCounting();
    let clock = new VirtualClock(t0);
    open(clock);
    await call("POST", "/v2/queues", JSON.stringify({ queueName: "fifo", parallelism: 1, paused: true }));
    for (let i = 0; i < 8; i++) await call("POST", `/v2/enqueue/fifo/${r.url}/m${i}`, String(i));
    clock = new VirtualClock(t0 + 1000);
    await restart(clock);
    await call("POST", "/v2/queues/fifo/resume");
    await clock.advance(0);
    await server!.drained();
    expect(paths(r)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `/m${i}`));
    expect(most()).toBe(1);
  });

  it("a flow-control key keeps its pinned limit across a restart", async () => {
    const t0 = Date.now();
    const { r, most } = await receiveCounting();
    let clock = new VirtualClock(t0);
    open(clock);
    const flow = {
      "upstash-flow-control-key": "k",
      "upstash-flow-control-value": "parallelism=10",
      "upstash-delay": "10s",
    };
    for (let i = 0; i < 6; i++) await call("POST", `/v2/publish/${r.url}/f${i}`, "x", flow);
    await call("POST", "/v2/flowControl/k/pin?parallelism=2");
    clock = new VirtualClock(t0 + 20_000);
    await restart(clock);
    await clock.advance(0);
    await server!.drained();
    expect(r.deliveries).toHaveLength(6);
    expect(most()).toBeLessThanOrEqual(2);
  });

  it("cron ticks that fell while the server was down are skipped and counted, not fired in a burst", async () => {
    const t0 = Date.UTC(2030, 0, 1, 12, 0, 30);
    const r = await receive();
    open(new VirtualClock(t0));
    await call("POST", `/v2/schedules/${r.url}/tick`, "t", { "upstash-cron": "* * * * *" });
    const clock = new VirtualClock(t0 + 10 * 60_000);
    await restart(clock);
    expect(server!.restored?.missedTicks).toBe(10);
    await clock.advance(0);
    expect(r.deliveries).toHaveLength(0);
    await clock.advance(60_000);
    expect(r.deliveries).toHaveLength(1);
  });

  it("compacts the journal into a snapshot, keeps long-delayed bodies on disk only, and restarts from it", async () => {
    const t0 = Date.now();
    const r = await receive();
    let clock = new VirtualClock(t0);
    open(clock, { compactBytes: 50_000 });
    const ids: string[] = [];
    const bodyOf = (i: number) => `${i}:${"x".repeat(2000)}`;
    for (let i = 0; i < 200; i++) {
      const { messageId } = await call("POST", `/v2/publish/${r.url}/c${i}`, bodyOf(i), {
        "upstash-delay": "1h",
      });
      ids.push(messageId);
    }
    // The snapshot is in place and the journal it replaced is gone.
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 20_000;
      const poll = () => {
        const files = readdirSync(dir);
        if (files.some((f) => /^snapshot-\d+\.jsonl$/.test(f)) && !files.includes("journal-1.jsonl"))
          resolve();
        else if (Date.now() > deadline) reject(new Error(`no compaction: ${files.join(", ")}`));
        else setTimeout(poll, 20);
      };
      poll();
    });
    // Bodies that were read from the deleted journal are read from the snapshot now.
    for (const i of [0, 57, 199]) expect((await call("GET", `/v2/messages/${ids[i]}`)).body).toBe(bodyOf(i));
    clock = new VirtualClock(t0 + 1000);
    await restart(clock);
    expect(server!.pendingCount()).toBe(200);
    expect(readdirSync(dir).filter((f) => f.startsWith("journal-"))).toHaveLength(1);
    expect(warnings).toEqual([]);
    await clock.advanceTo(t0 + 3_600_000 + 1000);
    expect(r.deliveries).toHaveLength(200);
    for (const d of r.deliveries) expect(d.body).toBe(bodyOf(Number(d.path.slice(2))));
  });
});

describe("a data directory that is damaged or not ours", () => {
  it("a torn last record is dropped with one warning, and everything before it kept", async () => {
    const clock = new VirtualClock();
    open(clock);
    const a = await call("POST", "/v2/publish/http://127.0.0.1:9/a", "a", { "upstash-delay": "1d" });
    await server!.close();
    const journal = join(dir, "journal-1.jsonl");
    writeFileSync(
      journal,
      `${readFileSync(journal, "utf8")}{"k":"m","u":"defaultUser","id":"msg_torn","o":9`,
    );
    open(clock);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/incomplete record.*recovered up to the last complete one/);
    expect(server!.pendingCount()).toBe(1);
    await call("GET", `/v2/messages/${a.messageId}`);
    // The cut tail is gone from the file, so new records follow whole ones.
    await call("POST", "/v2/publish/http://127.0.0.1:9/b", "b", { "upstash-delay": "1d" });
    await server!.close();
    open(clock);
    expect(server!.pendingCount()).toBe(2);
    expect(warnings).toHaveLength(1);
  });

  it("refuses a journal corrupted in the middle, naming the file and line", async () => {
    const clock = new VirtualClock();
    open(clock);
    await call("POST", "/v2/publish/http://127.0.0.1:9/a", "a", { "upstash-delay": "1d" });
    await server!.close();
    server = undefined;
    const journal = join(dir, "journal-1.jsonl");
    const lines = readFileSync(journal, "utf8").split("\n");
    lines.splice(1, 0, "{not json");
    writeFileSync(journal, lines.join("\n"));
    expect(() => open(clock)).toThrow(/journal-1\.jsonl line 2 is not a valid record, and records follow it/);
  });

  it("refuses a directory written by a newer jobstash", () => {
    writeFileSync(join(dir, "journal-1.jsonl"), '{"k":"h","format":"jobstash-dev-data","version":99}\n');
    expect(() => open(new VirtualClock())).toThrow(
      /newer jobstash \(data format 99; this one reads up to 1\): upgrade jobstash, or use another directory/,
    );
  });

  it("refuses a directory of other files", () => {
    writeFileSync(join(dir, "package.json"), "{}");
    expect(() => open(new VirtualClock())).toThrow(
      /holds other files and no jobstash data \(package\.json\); give --data an empty or new directory/,
    );
  });

  it("refuses a directory another server holds, and takes over a lock its dead owner left", async () => {
    const clock = new VirtualClock();
    const first = open(clock);
    expect(() => createDevServer({ clock, dataDir: dir })).toThrow(
      /in use by another jobstash dev server in this process/,
    );
    // A DataError, exported for createDevServer's callers to tell it from other failures.
    expect(() => createDevServer({ clock, dataDir: dir })).toThrow(DataError);
    await first.close();
    server = undefined;
    // Another live process's lock (pid 1 always runs), then one whose process is gone.
    writeFileSync(join(dir, "lock"), "1");
    expect(() => open(clock)).toThrow(
      /in use by another jobstash dev \(pid 1\); stop it, or give this one another --data directory/,
    );
    writeFileSync(join(dir, "lock"), "2147483646");
    open(clock);
    expect(server!.pendingCount()).toBe(0);
  });
});

describe("the official SDK against a durable server", () => {
  it("publishes, and its messages survive a restart", async () => {
    const r = await receive();
    open(new VirtualClock());
    const listening = await server!.listen({ port: 0 });
    const client = new Client({ baseUrl: listening.url, token: user.token, retry: false });
    const { messageId } = await client.publishJSON({ url: `${r.url}/sdk`, body: { hi: 1 }, delay: 3600 });
    const clock = new VirtualClock(Date.now() + 3_600_000 + 5000);
    await restart(clock);
    await clock.advance(0);
    expect(r.deliveries.map((d) => d.headers["upstash-message-id"])).toEqual([messageId]);
    expect(r.deliveries[0]!.verified).toBe(true);
  });
});
