import { Client } from "@upstash/qstash";
import { createDevServer, DEV_USERS, type DevServer, type ListeningServer } from "jobstash/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Delivery, eventually, startReceiver, type TestReceiver } from "./helpers.js";

// Drives the server over real HTTP with the official SDK Client; deliveries land on a local
// endpoint that checks them with the official Receiver.
let server: DevServer;
let listening: ListeningServer;
let receiver: TestReceiver;
let client: Client;
const failing = new Set<string>();

beforeAll(async () => {
  server = createDevServer({ retryScale: 0.0001 });
  listening = await server.listen({ port: 0 });
  receiver = await startReceiver((d: Delivery) => {
    const path = d.path.split("?")[0]!;
    if (path === "/nonretryable")
      return { status: 489, headers: { "Upstash-NonRetryable-Error": "true" }, body: "no" };
    if (failing.has(path)) return { status: 500, body: "boom" };
    return { status: 200, body: `ok ${path}` };
  });
  client = new Client({ baseUrl: listening.url, token: DEV_USERS.defaultUser.token, retry: false });
});

afterAll(async () => {
  await server.close();
  await receiver.close();
});

const byId = (id: string) => (d: Delivery) => d.headers["upstash-message-id"] === id;

describe("publish and delivery", () => {
  it("delivers a publishJSON signed, with the 4.1 headers and forwarded headers", async () => {
    const url = `${receiver.url}/jobs/a?x=1&y=two`;
    const res = await client.publishJSON({
      url,
      body: { hello: "world" },
      headers: { "X-Custom": "v1" },
      method: "PUT",
    });
    expect(res.messageId).toMatch(/^msg_/);
    expect(res.url).toBe(url);
    const [d] = await receiver.waitFor(1, byId(res.messageId));
    expect(d!.verified).toBe(true);
    expect(d!.url).toBe(url);
    expect(d!.method).toBe("PUT");
    expect(d!.body).toBe('{"hello":"world"}');
    expect(d!.headers["content-type"]).toBe("application/json");
    expect(d!.headers["x-custom"]).toBe("v1");
    expect(d!.headers["upstash-retried"]).toBe("0");
    expect(d!.headers["upstash-caller-ip"]).toBe("127.0.0.1");
    expect(d!.headers["user-agent"]).toBe("Upstash-QStash");
    expect(d!.headers["upstash-telemetry-sdk"]).toBeUndefined();
    expect(d!.headers.authorization).toBeUndefined();
  });

  it("keeps the destination raw: path, query and // intact; strips upstash-* and qstash_token keys", async () => {
    const res = await fetch(
      `${listening.url}/v2/publish/${receiver.url}/raw//p%20q?a=1&upstash-retries=0&qstash_token=${DEV_USERS.defaultUser.token}&b=%2F`,
      { method: "POST", body: "hi" },
    );
    expect(res.status).toBe(200);
    const { messageId, url } = (await res.json()) as { messageId: string; url: string };
    expect(url).toBe(`${receiver.url}/raw//p%20q?a=1&b=%2F`);
    const [d] = await receiver.waitFor(1, byId(messageId));
    expect(d!.path).toBe("/raw//p%20q?a=1&b=%2F");
    expect(d!.verified).toBe(true);
  });

  it("takes configuration from upstash-* query keys and forwards all headers with Upstash-Header-Forward", async () => {
    const token = DEV_USERS.defaultUser.token;
    const delayed = await fetch(
      `${listening.url}/v2/publish/${receiver.url}/q?keep=1&upstash-delay=1h&upstash-retries=7`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: "later",
      },
    ).then((r) => r.json() as Promise<{ messageId: string; url: string }>);
    expect(delayed.url).toBe(`${receiver.url}/q?keep=1`);
    const m = await client.messages.get(delayed.messageId);
    expect(m.maxRetries).toBe(7);
    expect(m.notBefore).toBeGreaterThan(Date.now() + 3_000_000);
    await client.messages.cancel(delayed.messageId);

    const forwarded = await fetch(`${listening.url}/v2/publish/${receiver.url}/fwd`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "upstash-header-forward": "true",
        "x-webhook-sig": "abc",
        "upstash-method": "GET",
      },
    }).then((r) => r.json() as Promise<{ messageId: string }>);
    const [d] = await receiver.waitFor(1, byId(forwarded.messageId));
    expect(d!.method).toBe("GET");
    expect(d!.headers["x-webhook-sig"]).toBe("abc");
    expect(d!.headers.authorization).toBeUndefined();
    expect(d!.verified).toBe(true);
  });

  it("returns a message while it is delayed, and cancels it", async () => {
    const res = await client.publishJSON({
      url: `${receiver.url}/later`,
      body: { a: 1 },
      delay: 60,
      retries: 2,
      label: ["one", "two"],
      headers: { "bypass-tunnel-reminder": "x" },
      flowControl: { key: "fc-get", parallelism: 2, period: "1d", rate: 5 },
    });
    const m = await client.messages.get(res.messageId);
    expect(m).toMatchObject({
      messageId: res.messageId,
      url: `${receiver.url}/later`,
      method: "POST",
      body: '{"a":1}',
      maxRetries: 2,
      labels: ["one", "two"],
      label: "one",
      flowControlKey: "fc-get",
      parallelism: 2,
      rate: 5,
      period: 86400,
    });
    expect(m.header).toEqual({ "Bypass-Tunnel-Reminder": ["x"], "Content-Type": ["application/json"] });
    expect(m.notBefore).toBeGreaterThanOrEqual(Date.now() + 50_000);
    expect(await client.messages.cancel(res.messageId)).toEqual({ cancelled: 1 });
    await expect(client.messages.get(res.messageId)).rejects.toMatchObject({ status: 404 });
    const logs = await client.logs({ filter: { messageId: res.messageId } });
    expect(logs.logs.map((l) => l.state)).toEqual(["CANCELLED", "CANCEL_REQUESTED", "CREATED"]);
  });

  it("retries failures, then moves the message to the DLQ and calls both callbacks", async () => {
    failing.add("/fails");
    const res = await client.publishJSON({
      url: `${receiver.url}/fails`,
      body: { n: 1 },
      retries: 2,
      callback: `${receiver.url}/cb`,
      failureCallback: `${receiver.url}/fcb`,
      headers: { "Upstash-Failure-Callback-Forward-X-Who": "fcb" },
    });
    const attempts = await receiver.waitFor(3, byId(res.messageId));
    expect(attempts.map((d) => d.headers["upstash-retried"])).toEqual(["0", "1", "2"]);
    expect(attempts.every((d) => d.verified)).toBe(true);
    const callbacks = await receiver.waitFor(3, (d) => d.path === "/cb");
    const payloads = callbacks.map((d) => JSON.parse(d.body));
    expect(payloads.map((p) => p.retried).sort()).toEqual([0, 1, 2]);
    expect(payloads[0]).toMatchObject({ status: 500, maxRetries: 2, sourceMessageId: res.messageId });
    expect(Buffer.from(payloads[0].body, "base64").toString()).toBe("boom");
    expect(Buffer.from(payloads[0].sourceBody, "base64").toString()).toBe('{"n":1}');
    const [fcb] = await receiver.waitFor(1, (d) => d.path === "/fcb");
    expect(fcb!.verified).toBe(true);
    expect(fcb!.headers["x-who"]).toBe("fcb");
    const fp = JSON.parse(fcb!.body);
    expect(fp).toMatchObject({ status: 500, retried: 2, maxRetries: 2, sourceMessageId: res.messageId });
    expect(fp.dlqId).toBeTruthy();

    const dlq = await client.dlq.listMessages({ filter: { url: `${receiver.url}/fails` } });
    expect(dlq.cursor).toBeUndefined();
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.messages[0]).toMatchObject({
      messageId: res.messageId,
      dlqId: fp.dlqId,
      responseStatus: 500,
      responseBody: "boom",
    });
    const states = (await client.logs({ filter: { messageId: res.messageId } })).logs
      .map((l) => l.state)
      .reverse();
    expect(states).toEqual([
      "CREATED",
      "ACTIVE",
      "ERROR",
      "RETRY",
      "ACTIVE",
      "ERROR",
      "RETRY",
      "ACTIVE",
      "ERROR",
      "FAILED",
    ]);

    failing.delete("/fails");
    const retried = await client.dlq.retry({ dlqIds: [fp.dlqId] });
    expect(retried.responses).toHaveLength(1);
    expect(retried.cursor).toBeUndefined();
    await receiver.waitFor(1, byId(retried.responses[0]!.messageId));
    expect(
      (await client.dlq.listMessages({ filter: { url: `${receiver.url}/fails` } })).messages,
    ).toHaveLength(0);
  });

  it("drained() resolves once every message, callbacks included, is final", async () => {
    failing.add("/drain-fail");
    try {
      await client.publish({
        url: `${receiver.url}/drain-ok`,
        body: "a",
        callback: `${receiver.url}/drain-cb`,
      });
      await client.publish({ url: `${receiver.url}/drain-fail`, body: "b", retries: 2 });
      await server.drained();
      expect(server.pendingCount()).toBe(0);
      expect(receiver.deliveries.filter((d) => d.path === "/drain-cb")).toHaveLength(1);
      expect(receiver.deliveries.filter((d) => d.path === "/drain-fail")).toHaveLength(3);
    } finally {
      failing.delete("/drain-fail");
    }
  });

  it("sends 489 + Upstash-NonRetryable-Error straight to the DLQ", async () => {
    const res = await client.publish({ url: `${receiver.url}/nonretryable`, body: "x", retries: 3 });
    await receiver.waitFor(1, byId(res.messageId));
    const entry = await eventually(async () =>
      (await client.dlq.listMessages({ filter: { messageId: res.messageId } })).messages.at(0),
    );
    expect(entry.responseStatus).toBe(489);
    expect(entry.responseHeader?.["Upstash-Nonretryable-Error"]).toEqual(["true"]);
    expect(receiver.deliveries.filter(byId(res.messageId))).toHaveLength(1);
    const auth = { authorization: `Bearer ${DEV_USERS.defaultUser.token}` };
    const one = await fetch(`${listening.url}/v2/dlq/${entry.dlqId}`, { headers: auth }).then((r) =>
      r.json(),
    );
    expect(one).toMatchObject({ dlqId: entry.dlqId, messageId: res.messageId, responseBody: "no" });
    await client.dlq.delete(entry.dlqId);
    await expect(client.dlq.delete(entry.dlqId)).rejects.toMatchObject({ status: 404 });
  });
});

describe("errors and auth", () => {
  it("answers bad input with 4xx and a JSON error that says what is wrong", async () => {
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${listening.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}`, ...headers },
        body: "x",
      });
    const cases: [Response, number, RegExp][] = [
      [await post(`/v2/publish/${receiver.url}/x`, { "upstash-delay": "soon" }), 400, /Upstash-Delay/],
      [await post(`/v2/publish/${receiver.url}/x`, { "upstash-retry-delay": "eval(1)" }), 400, /Retry-Delay/],
      [
        await post(`/v2/publish/${receiver.url}/x`, { "upstash-flow-control-key": "k" }),
        400,
        /Flow-Control-Value/,
      ],
      [await post("/v2/publish/ftp://example.com/x"), 400, /destination/],
      [await post("/v2/publish/no-such-group"), 404, /URL group/],
      [await post("/v2/publish/", {}), 400, /destination/],
      [await post(`/v2/publish/${receiver.url}/x`, { authorization: "Bearer nope" }), 401, /unknown token/],
      [await post(`/v2/schedules/${receiver.url}/x`, { "upstash-cron": "61 * * * *" }), 400, /cron/],
      [await post("/v2/batch", { "content-type": "application/json" }), 400, /JSON/],
      [await post("/llm/v1/chat/completions"), 501, /LLM/],
    ];
    for (const [res, status, message] of cases) {
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: string };
      expect(body.error).toMatch(message);
    }
  });

  it("rejects oversized bodies with 413 and keeps serving", async () => {
    const small = createDevServer({ maxBodySize: 16 });
    try {
      const res = await small.app.request(`/v2/publish/${receiver.url}/big`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}` },
        body: "x".repeat(17),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: string }).error).toMatch(/maxBodySize/);
      const ok = await small.app.request(`/v2/publish/${receiver.url}/big`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}`, "upstash-delay": "1h" },
        body: "x".repeat(16),
      });
      expect(ok.status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it("shows redacted fields hashed but delivers them intact", async () => {
    const res = await client.publish({
      url: `${receiver.url}/redact`,
      body: "secret-body",
      headers: { "X-Api-Key": "secret-key", "X-Plain": "visible" },
      redact: { body: true, header: ["X-Api-Key"] },
    });
    const [d] = await receiver.waitFor(1, byId(res.messageId));
    expect(d!.body).toBe("secret-body");
    expect(d!.headers["x-api-key"]).toBe("secret-key");
    const logs = await client.logs({ filter: { messageId: res.messageId } });
    const text = JSON.stringify(logs);
    expect(text).not.toContain("secret");
    expect(Buffer.from(logs.logs[0]!.body!, "base64").toString()).toMatch(/^REDACTED:[0-9a-f]{64}$/);
    expect(logs.logs[0]!.header!["X-Plain"]).toEqual(["visible"]);
  });

  it("isolates state per token and answers /v2/keys per user", async () => {
    const other = new Client({ baseUrl: listening.url, token: DEV_USERS.testUser1.token, retry: false });
    const res = await client.publish({ url: `${receiver.url}/iso`, body: "x", delay: 60 });
    await expect(other.messages.get(res.messageId)).rejects.toMatchObject({ status: 404 });
    const keys = await fetch(`${listening.url}/v2/keys`, {
      headers: { authorization: `Bearer ${DEV_USERS.testUser1.token}` },
    }).then((r) => r.json());
    expect(keys).toEqual({
      current: DEV_USERS.testUser1.currentSigningKey,
      next: DEV_USERS.testUser1.nextSigningKey,
    });
    await client.messages.cancel(res.messageId);
  });
});
