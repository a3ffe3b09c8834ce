import { Client } from "@upstash/qstash";
import { createDevServer, DEV_USERS, type DevServer, type ListeningServer } from "jobstash/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Delivery, eventually, startReceiver, type TestReceiver } from "./helpers.js";

// The management API through the official SDK Client, over real HTTP. Each test uses its own
// dev user where it counts totals, so tests in this file cannot see each other's state.
let server: DevServer;
let listening: ListeningServer;
let receiver: TestReceiver;
const clients: Client[] = [];

beforeAll(async () => {
  server = createDevServer({ retryScale: 0 });
  listening = await server.listen({ port: 0 });
  receiver = await startReceiver(async (d: Delivery) => {
    // The DLQ test's first message fails last, as one of several concurrent deliveries may.
    if (d.path === "/fail/0") await receiver.waitFor(4, (o) => /^\/fail\/[1-4]$/.test(o.path));
    return d.path.startsWith("/fail") ? { status: 500, body: "nope" } : {};
  });
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});

function clientFor(user: keyof typeof DEV_USERS): Client {
  const c = new Client({ baseUrl: listening.url, token: DEV_USERS[user].token, retry: false });
  clients.push(c);
  return c;
}

describe("schedules", () => {
  it("creates, overwrites by id, gets, lists, pauses, resumes and deletes", async () => {
    const client = clientFor("testUser1");
    const { scheduleId } = await client.schedules.create({
      destination: `${receiver.url}/sched`,
      cron: "*/10 * * * * ",
      body: JSON.stringify({ a: 1 }),
      headers: { "bypass-tunnel-reminder": "client-test", "test-header": "test-value" },
      retries: 5,
      delay: 10,
      callback: `${receiver.url}/cb?x=1`,
      retryDelay: "1000 * retried",
      label: "nightly",
      flowControl: { key: "sched-fc", rate: 5, period: "1d" },
    });
    expect(scheduleId).toMatch(/^scd_/);
    const s = await client.schedules.get(scheduleId);
    expect(s).toMatchObject({
      scheduleId,
      cron: "*/10 * * * *",
      destination: `${receiver.url}/sched`,
      method: "POST",
      body: '{"a":1}',
      retries: 5,
      delay: 10,
      callback: `${receiver.url}/cb?x=1`,
      retryDelayExpression: "1000 * retried",
      labels: ["nightly"],
      flowControlKey: "sched-fc",
      rate: 5,
      period: 86400,
      isPaused: false,
    });
    expect(s.header).toEqual({
      "Bypass-Tunnel-Reminder": ["client-test"],
      "Content-Type": ["application/json"],
      "Test-Header": ["test-value"],
    });
    expect(s.nextScheduleTime).toBeGreaterThan(Date.now());

    const fixed = await client.schedules.create({
      destination: `${receiver.url}/sched2`,
      cron: "0 0 * * *",
      scheduleId: "my.schedule_1",
      body: "first",
      queueName: "sched-queue",
    });
    expect(fixed.scheduleId).toBe("my.schedule_1");
    await client.schedules.create({
      destination: `${receiver.url}/sched3`,
      cron: "0 1 * * *",
      scheduleId: "my.schedule_1",
    });
    const overwritten = await client.schedules.get("my.schedule_1");
    expect(overwritten.body).toBeUndefined();
    expect(overwritten.destination).toBe(`${receiver.url}/sched3`);
    expect(overwritten.queueName).toBeUndefined();
    expect((await client.schedules.list()).map((x) => x.scheduleId).sort()).toEqual(
      [scheduleId, "my.schedule_1"].sort(),
    );

    await client.schedules.pause({ schedule: scheduleId });
    expect((await client.schedules.get(scheduleId)).isPaused).toBe(true);
    await client.schedules.resume({ schedule: scheduleId });
    expect((await client.schedules.get(scheduleId)).isPaused).toBe(false);
    await client.schedules.delete(scheduleId);
    await expect(client.schedules.get(scheduleId)).rejects.toMatchObject({ status: 404 });
    await expect(
      client.schedules.create({ destination: `${receiver.url}/x`, cron: "* * *" }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      client.schedules.create({ destination: `${receiver.url}/x`, cron: "CRON_TZ=Mars/Base * * * * *" }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe("queues", () => {
  it("upserts, gets, lists, pauses, resumes, deletes, and enqueues FIFO", async () => {
    const client = clientFor("testUser2");
    const q = client.queue({ queueName: "orders" });
    await q.upsert({ parallelism: 2 });
    expect(await q.get()).toMatchObject({ name: "orders", parallelism: 2, paused: false, lag: 0 });
    await q.pause();
    expect((await q.get()).paused).toBe(true);
    const sent = [];
    for (let i = 0; i < 3; i++)
      sent.push(await q.enqueueJSON({ url: `${receiver.url}/orders`, body: { i } }));
    expect((await q.get()).lag).toBe(3);
    const m = await client.messages.get(sent[0]!.messageId);
    expect(m.queueName).toBe("orders");
    await q.resume();
    const got = await receiver.waitFor(3, (d) => d.path === "/orders");
    expect(got.map((d) => JSON.parse(d.body).i).sort()).toEqual([0, 1, 2]);
    await eventually(async () => (await q.get()).lag === 0);
    expect((await q.list()).map((x) => x.name)).toEqual(["orders"]);
    await q.delete();
    await expect(q.get()).rejects.toMatchObject({ status: 404 });
    await q.delete(); // idempotent
  });
});

describe("URL groups and batch", () => {
  it("fans out to every endpoint and batches URL, group and queue items", async () => {
    const client = clientFor("testUser3");
    await client.urlGroups.addEndpoints({
      name: "team",
      endpoints: [{ name: "a", url: `${receiver.url}/ga` }, { url: `${receiver.url}/gb` }],
    });
    const g = await client.urlGroups.get("team");
    expect(g.endpoints).toEqual([{ name: "a", url: `${receiver.url}/ga` }, { url: `${receiver.url}/gb` }]);
    const res = await client.publishJSON({ urlGroup: "team", body: { fan: "out" } });
    expect(Array.isArray(res)).toBe(true);
    expect((res as unknown as { url: string }[]).map((r) => r.url)).toEqual([
      `${receiver.url}/ga`,
      `${receiver.url}/gb`,
    ]);
    const [ga] = await receiver.waitFor(1, (d) => d.path === "/ga");
    expect(ga!.headers["upstash-topic-name"]).toBe("team");
    expect(ga!.verified).toBe(true);
    await receiver.waitFor(1, (d) => d.path === "/gb");

    const batch = await client.batchJSON([
      { url: `${receiver.url}/b1`, body: { n: 1 } },
      { urlGroup: "team", body: { n: 2 } },
      { queueName: "bq", url: `${receiver.url}/b3`, body: { n: 3 } },
    ]);
    expect(batch).toHaveLength(3);
    expect(Array.isArray(batch[1])).toBe(true);
    await receiver.waitFor(1, (d) => d.path === "/b3");
    expect((await client.queue({ queueName: "bq" }).get()).name).toBe("bq");

    await client.urlGroups.removeEndpoints({ name: "team", endpoints: [{ name: "a" }] });
    expect((await client.urlGroups.get("team")).endpoints).toEqual([{ url: `${receiver.url}/gb` }]);
    expect((await client.urlGroups.list()).map((x) => x.name)).toEqual(["team"]);
    await client.urlGroups.delete("team");
    await expect(client.urlGroups.get("team")).rejects.toMatchObject({ status: 404 });
  });

  it("rejects a whole batch when one item is invalid, accepting none", async () => {
    const client = clientFor("testUser3");
    await expect(
      client.batch([
        { url: `${receiver.url}/ok`, body: "x" },
        { url: `${receiver.url}/bad`, body: "y", delay: "soon" as never },
      ]),
    ).rejects.toMatchObject({ status: 400 });
    expect((await client.logs({ filter: { url: `${receiver.url}/ok` } })).logs).toEqual([]);
  });
});

describe("bulk cancel, DLQ and logs", () => {
  it("cancels by ids, by filter and all, honouring count", async () => {
    const client = clientFor("defaultUser");
    const pub = (label: string) =>
      client.publish({ url: `${receiver.url}/bulk`, body: "x", delay: 3600, label });
    const a = await pub("red");
    const b = await pub("red");
    await pub("blue");
    await pub("blue");
    await pub("blue");
    expect(await client.messages.cancel([a.messageId, b.messageId, "msg_unknown"])).toEqual({ cancelled: 2 });
    expect(await client.messages.cancel({ filter: { label: "blue" }, count: 1 })).toEqual({ cancelled: 1 });
    expect(await client.messages.cancel({ all: true, count: 1 })).toEqual({ cancelled: 1 });
    expect(await client.messages.cancel({ all: true })).toEqual({ cancelled: 1 });
    const c = await pub("green");
    const d = await pub("green");
    await client.messages.delete(c.messageId);
    expect(await client.messages.deleteMany([d.messageId])).toBe(1);
    await pub("green");
    expect(await client.messages.deleteAll()).toBe(1);
    await expect(client.messages.get(c.messageId)).rejects.toMatchObject({ status: 404 });
    const bad = await fetch(`${listening.url}/v2/messages?labeel=x`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}` },
    });
    expect(bad.status).toBe(400);
  });

  it("lists, filters, pages, deletes and retries DLQ entries", async () => {
    const client = clientFor("defaultUser");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (
          await client.publish({
            url: `${receiver.url}/fail/${i}`,
            body: String(i),
            retries: 0,
            label: `l${i % 2}`,
          })
        ).messageId,
      );
    }
    await eventually(
      async () =>
        (await client.dlq.listMessages({ filter: { url: `${receiver.url}/fail/4` } })).messages.length === 1,
    );
    await eventually(async () => (await client.dlq.listMessages()).messages.length >= 5);
    const page1 = await client.dlq.listMessages({ count: 2 });
    expect(page1.messages).toHaveLength(2);
    expect(page1.cursor).toBeTruthy();
    const page2 = await client.dlq.listMessages({ count: 2, cursor: page1.cursor });
    const page3 = await client.dlq.listMessages({ count: 2, cursor: page2.cursor });
    expect(page3.cursor).toBeUndefined();
    // The pages hold every entry once. Their order is the order the five concurrent
    // deliveries failed in, which nothing promises: compare as sets.
    const seen = [...page1.messages, ...page2.messages, ...page3.messages].map((m) => m.messageId);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect((await client.dlq.listMessages({ filter: { label: "l1" } })).messages).toHaveLength(2);
    for (const filter of [
      { responseStatus: 999 },
      { fromDate: Date.parse("2099-01-01") },
      { toDate: Date.parse("2000-01-01") },
      { callerIp: "0.0.0.0" },
    ]) {
      expect((await client.dlq.listMessages({ filter })).messages).toEqual([]);
    }
    const unknown = await fetch(`${listening.url}/v2/dlq?labeel=x`, {
      headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}` },
    });
    expect(unknown.status).toBe(400);

    expect(await client.dlq.delete({ filter: { label: "nothing" } })).toEqual({ deleted: 0 });
    const one = await client.dlq.delete({ all: true, count: 1 });
    expect(one.deleted).toBe(1);
    const retried = await client.dlq.retry({ filter: { label: "l1" } });
    expect(retried.responses.length).toBeGreaterThanOrEqual(1);
    expect(retried.cursor).toBeUndefined();
    let cursor: string | undefined;
    let deleted = 0;
    do {
      const r = await client.dlq.delete({ all: true, count: 1, cursor });
      deleted += r.deleted;
      cursor = r.cursor;
    } while (cursor);
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(
      (await client.dlq.listMessages({ filter: { url: ids.map((_, i) => `${receiver.url}/fail/${i}`) } }))
        .messages.length,
    ).toBeLessThanOrEqual(2);
  });

  it("pages logs newest first with a cursor, and filters them", async () => {
    const client = clientFor("testUser1");
    const r = await client.publish({ url: `${receiver.url}/logs`, body: "x" });
    await eventually(
      async () => (await client.logs({ filter: { messageId: r.messageId, state: "DELIVERED" } })).logs.length,
    );
    const first = await client.logs({ count: 1 });
    expect(first.logs).toHaveLength(1);
    expect(first.cursor).toBeTruthy();
    const second = await client.logs({ count: 1, cursor: first.cursor });
    expect(second.logs[0]!.time).toBeLessThanOrEqual(first.logs[0]!.time);
    const all = await client.logs({ filter: { messageId: r.messageId } });
    expect(all.cursor).toBeUndefined();
    expect(all.logs.map((l) => l.state)).toEqual(["DELIVERED", "ACTIVE", "CREATED"]);
    expect(Buffer.from(all.logs[0]!.body!, "base64").toString()).toBe("x");
    expect(
      (await client.logs({ cursor: Date.now() + 1000, filter: { messageId: r.messageId } })).logs,
    ).toHaveLength(3);
  });
});

describe("flow control and keys", () => {
  it("gets, pauses, resumes, pins, unpins and resets a key", async () => {
    const client = clientFor("testUser2");
    await client.publish({
      url: `${receiver.url}/flow`,
      body: "x",
      delay: 3600,
      flowControl: { key: "fk", parallelism: 2, rate: 10, period: 60 },
    });
    const info = await client.flowControl.get("fk");
    expect(info).toMatchObject({
      flowControlKey: "fk",
      parallelismMax: 2,
      rateMax: 10,
      ratePeriod: 60,
      isPaused: false,
    });
    for (const k of ["waitListSize", "parallelismCount", "rateCount", "ratePeriodStart"] as const) {
      expect(typeof info[k]).toBe("number");
    }
    await client.flowControl.pause("fk");
    expect((await client.flowControl.get("fk")).isPaused).toBe(true);
    await client.flowControl.resume("fk");
    expect((await client.flowControl.get("fk")).isPaused).toBe(false);
    await client.flowControl.pin("fk", { parallelism: 3, rate: 20, period: 120 });
    expect(await client.flowControl.get("fk")).toMatchObject({
      parallelismMax: 3,
      rateMax: 20,
      ratePeriod: 120,
      isPinnedParallelism: true,
      isPinnedRate: true,
    });
    await client.flowControl.unpin("fk", { parallelism: true });
    expect(await client.flowControl.get("fk")).toMatchObject({
      isPinnedParallelism: false,
      isPinnedRate: true,
    });
    await client.flowControl.resetRate("fk");
    expect((await client.flowControl.get("fk")).rateCount).toBe(0);
    // The queue test's deliveries for this user may still be in flight: wait for them.
    await eventually(async () => (await client.flowControl.getGlobalParallelism()).parallelismCount === 0);
    await expect(client.flowControl.get("missing")).rejects.toMatchObject({ status: 404 });
    // Not in SDK 2.12 yet, but documented (Feb 2026): GET /v2/flowControl?search=
    const list = (await fetch(`${listening.url}/v2/flowControl?search=f`, {
      headers: { authorization: `Bearer ${DEV_USERS.testUser2.token}` },
    }).then((r) => r.json())) as { flowControlKey: string }[];
    expect(list.map((f) => f.flowControlKey)).toEqual(["fk"]);
  });

  it("rotates keys for test users but never for the default user", async () => {
    const rotate = (user: keyof typeof DEV_USERS) =>
      fetch(`${listening.url}/v2/keys/rotate`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_USERS[user].token}` },
      }).then((r) => r.json() as Promise<{ current: string; next: string }>);
    const local = createDevServer();
    const l = await local.listen({ port: 0 });
    try {
      const rotated = await fetch(`${l.url}/v2/keys/rotate`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_USERS.testUser3.token}` },
      }).then((r) => r.json() as Promise<{ current: string; next: string }>);
      expect(rotated.current).toBe(DEV_USERS.testUser3.nextSigningKey);
      expect(rotated.next).toMatch(/^sig_/);
      expect(rotated.next).not.toBe(DEV_USERS.testUser3.nextSigningKey);
    } finally {
      await local.close();
    }
    expect(await rotate("defaultUser")).toEqual({
      current: DEV_USERS.defaultUser.currentSigningKey,
      next: DEV_USERS.defaultUser.nextSigningKey,
    });
  });
});
