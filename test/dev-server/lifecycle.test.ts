import { createDevServer, DEV_USERS, type DevServer, VirtualClock } from "jobstash/dev-server";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_BACKOFF_SECONDS,
  FIFO_HEAD_RETRIES,
  NEW_YORK_DST,
  RATE_LIMIT,
  RETRY_DELAY_EXPRESSION,
} from "../helpers/qstash-semantics.js";
import { type Delivery, type Reply, startReceiver, type TestReceiver } from "./helpers.js";

// Lifecycle rules on the virtual clock: time only moves when the test says so, and every
// delivery (real HTTP to a local receiver) has settled when advance() returns.
const token = DEV_USERS.defaultUser.token;
let server: DevServer | undefined;
let receiver: TestReceiver | undefined;

afterEach(async () => {
  await server?.close();
  await receiver?.close();
  server = undefined;
  receiver = undefined;
});

async function setup(reply: (d: Delivery) => Reply | Promise<Reply>, start = Date.now()) {
  const clock = new VirtualClock(start);
  server = createDevServer({ clock });
  receiver = await startReceiver(reply);
  return { clock, server, receiver };
}

async function publish(path: string, headers: Record<string, string> = {}, body = "x") {
  const res = await server!.app.request(path, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
  });
  const json = (await res.json()) as any;
  if (res.status >= 300) throw new Error(`publish failed: ${res.status} ${JSON.stringify(json)}`);
  return { status: res.status, json };
}

async function get(path: string): Promise<any> {
  const res = await server!.app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return res.json();
}

const at = (r: TestReceiver, path: string) => r.deliveries.filter((d) => d.path.startsWith(path));

describe("retries on the virtual clock", () => {
  it("waits min(86400, e^(2.5n)) seconds between attempts, then fails to the DLQ", async () => {
    const start = Date.now();
    const { clock, receiver } = await setup(() => ({ status: 500 }), start);
    const { json } = await publish(`/v2/publish/${receiver.url}/f`, { "upstash-retries": "5" });
    await clock.advance(0);
    expect(at(receiver, "/f")).toHaveLength(1);
    // 12.18 s, 2m28s, 30m8s, 6h7m6s, then capped at a day.
    let due = start;
    for (const [i, seconds] of DEFAULT_BACKOFF_SECONDS.entries()) {
      due += seconds * 1000;
      await clock.advanceTo(due - 2);
      expect(at(receiver, "/f"), `before retry ${i + 1}`).toHaveLength(i + 1);
      await clock.advanceTo(due + 2);
      expect(at(receiver, "/f"), `after retry ${i + 1}`).toHaveLength(i + 2);
      expect(at(receiver, "/f")[i + 1]!.headers["upstash-retried"]).toBe(String(i + 1));
    }
    expect(at(receiver, "/f").every((d) => d.verified)).toBe(true);
    const dlq = await get("/v2/dlq");
    expect(dlq.messages.map((m: any) => m.messageId)).toEqual([json.messageId]);
    const retryLogs = (await get(`/v2/events?messageId=${json.messageId}&state=RETRY&order=earliestFirst`))
      .events;
    expect(retryLogs.map((e: any) => Math.round((e.nextDeliveryTime - e.time) / 1000))).toEqual(
      DEFAULT_BACKOFF_SECONDS.map(Math.round),
    );
  });

  it("honours Retry-After and Upstash-Retry-Delay, and retryScale shrinks the backoff", async () => {
    let n = 0;
    const { clock, receiver } = await setup((d) =>
      d.path === "/ra" && n++ === 0 ? { status: 429, headers: { "Retry-After": "30" } } : { status: 500 },
    );
    await publish(`/v2/publish/${receiver.url}/ra`, { "upstash-retries": "1" });
    await clock.advance(29_999);
    expect(at(receiver, "/ra")).toHaveLength(1);
    await clock.advance(1);
    expect(at(receiver, "/ra")).toHaveLength(2);

    await publish(`/v2/publish/${receiver.url}/expr`, {
      "upstash-retries": "3",
      "upstash-retry-delay": RETRY_DELAY_EXPRESSION.expression,
    });
    await clock.advance(0);
    for (const [i, wait] of RETRY_DELAY_EXPRESSION.waitsMs.entries()) {
      const total = i + 2;
      await clock.advance(wait - 1);
      expect(at(receiver, "/expr")).toHaveLength(total - 1);
      await clock.advance(1);
      expect(at(receiver, "/expr")).toHaveLength(total);
    }

    const scaledClock = new VirtualClock();
    const scaled = createDevServer({ clock: scaledClock, retryScale: 0.001 });
    try {
      await scaled.app.request(`/v2/publish/${receiver.url}/scaled`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "upstash-retries": "2" },
      });
      await scaledClock.advance(12 + 149);
      expect(at(receiver, "/scaled")).toHaveLength(3);
    } finally {
      await scaled.close();
    }
  });

  it("stops at 489 + Upstash-NonRetryable-Error, but treats a bare 489 as an ordinary failure", async () => {
    const { clock, receiver } = await setup((d) =>
      d.path === "/nr" ? { status: 489, headers: { "Upstash-NonRetryable-Error": "true" } } : { status: 489 },
    );
    await publish(`/v2/publish/${receiver.url}/nr`, { "upstash-failure-callback": `${receiver.url}/fcb` });
    await publish(`/v2/publish/${receiver.url}/plain`, { "upstash-retries": "1" });
    await clock.advance(13_000);
    expect(at(receiver, "/nr")).toHaveLength(1);
    expect(at(receiver, "/plain")).toHaveLength(2);
    const [fcb] = at(receiver, "/fcb");
    expect(JSON.parse(fcb!.body)).toMatchObject({ status: 489, retried: 0, maxRetries: 3 });
  });

  it("calls the callback after every attempt and the failure callback once, after the last", async () => {
    const { clock, receiver } = await setup((d) => (d.path === "/job" ? { status: 503, body: "down" } : {}));
    const { json } = await publish(`/v2/publish/${receiver.url}/job`, {
      "upstash-retries": "2",
      "upstash-callback": `${receiver.url}/cb?kind=cb`,
      "upstash-failure-callback": `${receiver.url}/fcb`,
      "upstash-callback-forward-x-token": "abc",
      "upstash-forward-x-src": "1",
    });
    await clock.advance(0);
    expect(at(receiver, "/cb")).toHaveLength(1);
    expect(at(receiver, "/fcb")).toHaveLength(0);
    await clock.advance(12_183);
    expect(at(receiver, "/cb")).toHaveLength(2);
    expect(at(receiver, "/fcb")).toHaveLength(0);
    await clock.advance(148_414);
    expect(at(receiver, "/cb")).toHaveLength(3);
    expect(at(receiver, "/fcb")).toHaveLength(1);
    const cbs = at(receiver, "/cb");
    expect(cbs.map((d) => JSON.parse(d.body).retried)).toEqual([0, 1, 2]);
    expect(cbs.every((d) => d.verified && d.headers["x-token"] === "abc")).toBe(true);
    expect(cbs[0]!.url).toBe(`${receiver.url}/cb?kind=cb`);
    const payload = JSON.parse(at(receiver, "/fcb")[0]!.body);
    expect(payload).toMatchObject({
      status: 503,
      retried: 2,
      maxRetries: 2,
      sourceMessageId: json.messageId,
      url: `${receiver.url}/job`,
      method: "POST",
      sourceHeader: { "X-Src": ["1"] },
    });
    expect(Buffer.from(payload.body, "base64").toString()).toBe("down");
    expect(Buffer.from(payload.sourceBody, "base64").toString()).toBe("x");
    expect((await get("/v2/dlq")).messages[0].dlqId).toBe(payload.dlqId);
  });
});

describe("failed attempts without a reply", () => {
  it("retries connection errors and timeouts, and dead-letters them without a response status", async () => {
    const { clock, receiver } = await setup(async (d) => {
      if (d.path === "/slow") await new Promise((r) => setTimeout(r, 1000));
      return {};
    });
    // A port nothing listens on: take a free one and close it again.
    const closed = await startReceiver();
    const deadUrl = `${closed.url}/gone`;
    await closed.close();
    const dead = await publish(`/v2/publish/${deadUrl}`, { "upstash-retries": "1" });
    const slow = await publish(`/v2/publish/${receiver.url}/slow`, {
      "upstash-retries": "0",
      "upstash-timeout": "100ms",
    });
    await clock.advance(0);
    await clock.advance(12_183);
    const dlq = (await get("/v2/dlq")).messages as any[];
    const deadEntry = dlq.find((m) => m.messageId === dead.json.messageId);
    const slowEntry = dlq.find((m) => m.messageId === slow.json.messageId);
    expect(deadEntry.responseStatus).toBeUndefined();
    expect(deadEntry.error).toMatch(/ECONNREFUSED/);
    expect(slowEntry.error).toMatch(/timed out after 100ms/);
    const retries = (await get(`/v2/events?messageId=${dead.json.messageId}&state=RETRY`)).events;
    expect(retries).toHaveLength(1);
  });
});

describe("delay, cancel and dedup", () => {
  it("holds a delayed message until its time, and Not-Before wins over Delay", async () => {
    const start = Date.now();
    const { clock, receiver } = await setup(() => ({}), start);
    await publish(`/v2/publish/${receiver.url}/d`, { "upstash-delay": "1m30s" });
    await publish(`/v2/publish/${receiver.url}/nb`, {
      "upstash-delay": "10s",
      "upstash-not-before": String(Math.floor(start / 1000) + 120),
    });
    await clock.advance(89_999);
    expect(receiver.deliveries).toHaveLength(0);
    await clock.advance(1);
    expect(at(receiver, "/d")).toHaveLength(1);
    await clock.advanceTo(Math.floor(start / 1000) * 1000 + 119_999);
    expect(at(receiver, "/nb")).toHaveLength(0);
    await clock.advance(1);
    expect(at(receiver, "/nb")).toHaveLength(1);
  });

  it("deduplicates by id and by content for 10 minutes", async () => {
    const { clock, receiver } = await setup(() => ({}));
    const a = await publish(`/v2/publish/${receiver.url}/dd`, { "upstash-deduplication-id": "k1" });
    const b = await publish(`/v2/publish/${receiver.url}/dd`, { "upstash-deduplication-id": "k1" });
    expect(a.status).toBe(200);
    expect(b.status).toBe(202);
    expect(b.json).toMatchObject({ messageId: a.json.messageId, deduplicated: true });
    const c1 = await publish(
      `/v2/publish/${receiver.url}/cd`,
      { "upstash-content-based-deduplication": "true" },
      "same",
    );
    const c2 = await publish(
      `/v2/publish/${receiver.url}/cd`,
      { "upstash-content-based-deduplication": "true" },
      "same",
    );
    const c3 = await publish(
      `/v2/publish/${receiver.url}/cd`,
      { "upstash-content-based-deduplication": "true" },
      "other",
    );
    expect(c2.json.messageId).toBe(c1.json.messageId);
    expect(c3.json.messageId).not.toBe(c1.json.messageId);
    await clock.advance(599_999);
    expect(
      (await publish(`/v2/publish/${receiver.url}/dd`, { "upstash-deduplication-id": "k1" })).status,
    ).toBe(202);
    await clock.advance(1);
    const later = await publish(`/v2/publish/${receiver.url}/dd`, { "upstash-deduplication-id": "k1" });
    expect(later.status).toBe(200);
    expect(later.json.messageId).not.toBe(a.json.messageId);
    await clock.advance(0);
    expect(at(receiver, "/dd")).toHaveLength(2);
    expect(at(receiver, "/cd")).toHaveLength(2);
  });

  it("cancels a message waiting for a retry; it is never delivered again", async () => {
    const { clock, receiver } = await setup(() => ({ status: 500 }));
    const { json } = await publish(`/v2/publish/${receiver.url}/c`);
    await clock.advance(0);
    const res = await server!.app.request(`/v2/messages/${json.messageId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await res.json()).toEqual({ cancelled: 1 });
    await clock.advance(86_400_000);
    expect(at(receiver, "/c")).toHaveLength(1);
    expect((await get("/v2/dlq")).messages).toHaveLength(0);
  });
});

describe("schedules", () => {
  it("ticks on a CRON_TZ schedule across a DST change, each tick carrying Upstash-Schedule-Id", async () => {
    // New York moves from UTC-5 to UTC-4 on 2026-03-08: 09:00 local is 14:00Z, then 13:00Z.
    const { clock, receiver } = await setup(() => ({}), Date.parse(NEW_YORK_DST.start));
    const res = await server!.app.request(`/v2/schedules/${receiver.url}/cron`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "upstash-cron": `CRON_TZ=${NEW_YORK_DST.tz} ${NEW_YORK_DST.cron}`,
        "upstash-schedule-id": "daily",
      },
      body: "tick",
    });
    expect(await res.json()).toEqual({ scheduleId: "daily" });
    const times: string[] = [];
    const seen = () => at(receiver, "/cron").length;
    for (let i = 0; i < 4 * 24; i++) {
      const before = seen();
      await clock.advance(3_600_000);
      if (seen() > before) times.push(new Date(clock.now()).toISOString().slice(0, 13));
    }
    expect(times).toEqual(NEW_YORK_DST.ticks);
    expect(
      at(receiver, "/cron").every((d) => d.headers["upstash-schedule-id"] === "daily" && d.body === "tick"),
    ).toBe(true);
    const info = await get("/v2/schedules/daily");
    expect(Object.values(info.lastScheduleStates)).toEqual(["SUCCESS"]);
    expect(info.lastScheduleTime).toBe(Date.parse("2026-03-09T13:00:00Z"));
    expect(info.nextScheduleTime).toBe(Date.parse("2026-03-10T13:00:00Z"));
    // Paused: ticks are skipped but the schedule keeps its place.
    await server!.app.request("/v2/schedules/daily/pause", {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}` },
    });
    await clock.advance(2 * 86_400_000);
    expect(seen()).toBe(4);
    await server!.app.request("/v2/schedules/daily/resume", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    await clock.advance(86_400_000);
    expect(seen()).toBe(5);
  });
});

describe("queues and flow control", () => {
  it("keeps FIFO order with parallelism 1 while the head message retries", async () => {
    const attempts = new Map<string, number>();
    const { clock, receiver } = await setup((d) => {
      const n = (attempts.get(d.body) ?? 0) + 1;
      attempts.set(d.body, n);
      return d.body === "A" && n < 3 ? { status: 500 } : {};
    });
    for (const body of FIFO_HEAD_RETRIES.bodies) {
      await publish(
        `/v2/enqueue/q1/${receiver.url}/q`,
        { "upstash-retry-delay": String(FIFO_HEAD_RETRIES.retryDelayMs) },
        body,
      );
    }
    expect((await get("/v2/queues/q1")).lag).toBe(3);
    await clock.advance(5000);
    expect(at(receiver, "/q").map((d) => d.body)).toEqual(FIFO_HEAD_RETRIES.order);
    expect((await get("/v2/queues/q1")).lag).toBe(0);
  });

  it("with parallelism 1, holds the next message until the current one's callback is done", async () => {
    let callbackAnswered = false;
    const order: string[] = [];
    const { clock, receiver } = await setup((d) => {
      order.push(d.path === "/cb" ? "callback" : d.body);
      if (d.path === "/cb") {
        // The callback fails once: its retry must still hold the queue.
        if (!callbackAnswered) {
          callbackAnswered = true;
          return { status: 500 };
        }
      }
      return {};
    });
    await publish(
      `/v2/enqueue/cbq/${receiver.url}/job`,
      { "upstash-callback": `${receiver.url}/cb`, "upstash-callback-retry-delay": "5000" },
      "first",
    );
    await publish(`/v2/enqueue/cbq/${receiver.url}/job`, {}, "second");
    await clock.advance(0);
    expect(order).toEqual(["first", "callback"]);
    await clock.advance(5000);
    expect(order).toEqual(["first", "callback", "callback", "second"]);
  });

  it("runs a schedule that targets a queue through that queue", async () => {
    const { clock, receiver } = await setup(() => ({}), Date.parse("2026-05-01T10:00:30Z"));
    await server!.app.request(`/v2/schedules/${receiver.url}/sq`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "upstash-cron": "* * * * *",
        "upstash-queue-name": "sched-q",
      },
    });
    await server!.app.request("/v2/queues/sched-q/pause", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    await clock.advance(3 * 60_000);
    expect(at(receiver, "/sq")).toHaveLength(0);
    expect((await get("/v2/queues/sched-q")).lag).toBe(3);
    await server!.app.request("/v2/queues/sched-q/resume", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    await clock.advance(0);
    expect(at(receiver, "/sq")).toHaveLength(3);
    expect(at(receiver, "/sq").every((d) => typeof d.headers["upstash-schedule-id"] === "string")).toBe(true);
  });

  it("holds a paused queue and lets parallelism > 1 run several at once", async () => {
    const { clock, receiver } = await setup(() => ({}));
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    await server!.app.request("/v2/queues", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ queueName: "pq", parallelism: 2, paused: true }),
    });
    for (let i = 0; i < 4; i++) await publish(`/v2/enqueue/pq/${receiver.url}/pq`, {}, String(i));
    await clock.advance(1000);
    expect(at(receiver, "/pq")).toHaveLength(0);
    expect(await get("/v2/queues/pq")).toMatchObject({ name: "pq", parallelism: 2, paused: true, lag: 4 });
    await server!.app.request("/v2/queues/pq/resume", { method: "POST", headers: auth });
    await clock.advance(0);
    // Two in flight at once: FIFO decides which two start first, not which lands first, and
    // "2" starts only once one of them has completed (so after it arrived).
    const bodies = at(receiver, "/pq").map((d) => d.body);
    expect([...bodies].sort()).toEqual(["0", "1", "2", "3"]);
    expect(["0", "1"]).toContain(bodies[0]);
  });

  it("never exceeds a flow-control key's parallelism under concurrent load", async () => {
    const load = inFlightTracker();
    const { clock, receiver } = await setup(load.reply);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        publish(
          `/v2/publish/${receiver.url}/fc`,
          { "upstash-flow-control-key": "tenant", "upstash-flow-control-value": "parallelism=3" },
          String(i),
        ),
      ),
    );
    expect((await get("/v2/flowControl/tenant")).parallelismMax).toBe(3);
    await clock.advance(0);
    expect(at(receiver, "/fc")).toHaveLength(30);
    expect(load.peak()).toBe(3);
  });

  it("keeps pinned limits over per-publish values, and a paused key holds delivery", async () => {
    const load = inFlightTracker();
    const { clock, receiver } = await setup(load.reply);
    const fc = (value: string) => ({
      "upstash-flow-control-key": "pinned",
      "upstash-flow-control-value": value,
    });
    await publish(`/v2/publish/${receiver.url}/pin`, { ...fc("parallelism=5"), "upstash-delay": "1h" });
    const post = (path: string) =>
      server!.app.request(path, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect((await post("/v2/flowControl/pinned/pin?parallelism=1")).status).toBe(200);
    await post("/v2/flowControl/pinned/pause");
    await Promise.all(
      Array.from({ length: 6 }, () => publish(`/v2/publish/${receiver.url}/pin`, fc("parallelism=5"))),
    );
    await clock.advance(0);
    expect(at(receiver, "/pin")).toHaveLength(0);
    expect(await get("/v2/flowControl/pinned")).toMatchObject({
      parallelismMax: 1,
      isPinnedParallelism: true,
      waitListSize: 6,
    });
    await post("/v2/flowControl/pinned/resume");
    await clock.advance(0);
    expect(at(receiver, "/pin")).toHaveLength(6);
    expect(load.peak()).toBe(1);
  });

  it("starts at most `rate` calls per period", async () => {
    const { clock, receiver } = await setup(() => ({}));
    const { rate, periodSeconds, messages, startsPerPeriod } = RATE_LIMIT;
    for (let i = 0; i < messages; i++) {
      await publish(`/v2/publish/${receiver.url}/rate`, {
        "upstash-flow-control-key": "r",
        "upstash-flow-control-value": `rate=${rate}, period=${periodSeconds}s`,
      });
    }
    const [first, second, third] = startsPerPeriod as [number, number, number];
    await clock.advance(0);
    expect(at(receiver, "/rate")).toHaveLength(first);
    expect(await get("/v2/flowControl/r")).toMatchObject({
      rateMax: rate,
      rateCount: first,
      ratePeriod: periodSeconds,
      waitListSize: messages - first,
    });
    await clock.advance(periodSeconds * 1000 - 1);
    expect(at(receiver, "/rate")).toHaveLength(first);
    await clock.advance(1);
    expect(at(receiver, "/rate")).toHaveLength(first + second);
    await clock.advance(periodSeconds * 1000);
    expect(at(receiver, "/rate")).toHaveLength(first + second + third);
  });
});

/** A receiver reply that takes a moment and records how many deliveries overlapped at most. */
function inFlightTracker() {
  let inFlight = 0;
  let peak = 0;
  return {
    peak: () => peak,
    reply: async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return {};
    },
  };
}
