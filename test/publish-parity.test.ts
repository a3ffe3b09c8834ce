import { Client } from "@upstash/qstash";
import { PublishError } from "jobstash";
import { createDevServer, DEV_USERS } from "jobstash/dev-server";
import { describe, expect, it } from "vitest";
import type { PublishMessage } from "../src/protocol.js";
import { publish, publishBatch } from "../src/qstash.js";
import { type Recorded, recorderForFile } from "./helpers/recorder.js";

/**
 * jobstash publishes with fetch instead of the SDK's Client (src/qstash.ts). The official
 * Client is the reference: each message goes out through both, and the two requests must be
 * the same (method, path, body, every header but the SDK's telemetry and fetch's own).
 */

const qstash = recorderForFile();

const token = "parity-token";
const target = () => ({ url: qstash.url, token });
const client = () => new Client({ baseUrl: qstash.url, token, enableTelemetry: false });

/** What must match: the request without transport details and the SDK's telemetry. */
function wire(request: Recorded) {
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter(
      ([name]) =>
        !/^(host|connection|content-length|user-agent|accept|accept-encoding|accept-language|sec-fetch-mode)$/.test(
          name,
        ) && !name.startsWith("upstash-telemetry-"),
    ),
  );
  return { method: request.method, path: request.path, headers, body: request.body };
}

const base = { url: "https://app.example.com/api/jobs/send-email", headers: {} };
const messages: Record<string, PublishMessage> = {
  "the least trigger sends": { ...base, body: { to: "a@b.co" }, retries: 3, label: "send-email" },
  "every option": {
    ...base,
    body: { to: "a@b.co", n: [1, 2], nested: { ok: true } },
    headers: { "Jobstash-Max-Retries": "5", "Jobstash-Label": "mail", "X-Tenant": "t1" },
    retries: 5,
    retryDelay: "pow(2, retried) * 1000",
    timeout: 30,
    delay: 60,
    notBefore: 1_900_000_000,
    deduplicationId: "dedup-1",
    contentBasedDeduplication: true,
    flowControl: { key: "tenant:t1", parallelism: 2, rate: 10, period: 60 },
    callback: `${base.url}?callback=success`,
    failureCallback: `${base.url}?callback=failure`,
    label: "mail",
  },
  "a rate-only flow control and a fractional timeout": {
    ...base,
    body: "a string",
    timeout: 1.5,
    flowControl: { key: "k", rate: 3 },
  },
  "headers the caller spells like QStash's own": {
    ...base,
    body: null,
    headers: { "Upstash-Callback-Forward-X": "y", "content-type": "text/plain", "Upstash-Retries": "9" },
    retries: 1,
  },
  "no body": { ...base, body: undefined },
  "a destination the URL parser normalises": {
    ...base,
    url: "https://app.example.com/api/jobs/../jobs/a b",
    body: {},
  },
};

describe("publishing matches the official Client on the wire", () => {
  for (const [name, message] of Object.entries(messages)) {
    it(`publish: ${name}`, async () => {
      const { queueName: _, ...request } = message;
      await client().publishJSON(request as never);
      await publish(target(), message);
      const [sdk, ours] = qstash.requests.map(wire);
      expect(ours).toEqual(sdk);
    });
  }

  it("enqueue onto a queue", async () => {
    const message = { ...messages["every option"]!, queueName: "reports" };
    const { queueName, ...request } = message;
    await client()
      .queue({ queueName })
      .enqueueJSON(request as never);
    await publish(target(), message);
    const [sdk, ours] = qstash.requests.map(wire);
    expect(ours!.path).toMatch(/^\/v2\/enqueue\/reports\/https:\/\//);
    expect(ours).toEqual(sdk);
  });

  it("batch, with and without queues", async () => {
    const batch = Object.values(messages).map((message, i) => ({
      ...message,
      ...(i % 2 === 1 && { queueName: "reports" }),
    }));
    await client().batchJSON(batch.map((message) => ({ ...message })) as never);
    const ids = await publishBatch(target(), batch);
    expect(ids).toHaveLength(batch.length);
    const [sdk, ours] = qstash.requests.map(wire);
    expect(ours!.path).toBe("/v2/batch");
    expect(JSON.parse(ours!.body)).toEqual(
      (JSON.parse(sdk!.body) as { headers: Record<string, string> }[]).map((item) => ({
        ...item,
        headers: Object.fromEntries(
          Object.entries(item.headers).filter(([name]) => !name.startsWith("upstash-telemetry-")),
        ),
      })),
    );
    expect({ ...ours, body: "" }).toEqual({ ...sdk, body: "" });
  });
});

describe("publish failures", () => {
  /**
   * A QStash stand-in that answers each request with the next of `replies` (`"drop"`: hang up;
   * `"cut"`: hang up halfway through the answer).
   */
  async function flaky(replies: ({ status: number; body: string } | "drop" | "cut")[]) {
    const { createServer } = await import("node:http");
    let seen = 0;
    const server = createServer((req, res) => {
      const reply = replies[Math.min(seen++, replies.length - 1)]!;
      req.resume();
      if (reply === "drop") return req.socket.destroy();
      if (reply === "cut") {
        res.writeHead(200, { "content-length": "40" }).write('{"messageId":', () => req.socket.destroy());
        return;
      }
      res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    const { port } = server.address() as { port: number };
    return {
      target: { url: `http://127.0.0.1:${port}`, token },
      seen: () => seen,
      close: () => new Promise<void>((closed) => server.close(() => closed())),
    };
  }
  const message = messages["the least trigger sends"]!;

  it("QStash's refusal is a PublishError with its status and message, not retried", async () => {
    const qstash = await flaky([{ status: 400, body: '{"error":"invalid destination url"}' }]);
    try {
      const error = await publish(qstash.target, message).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishError);
      expect(error).toMatchObject({ status: 400, message: '{"error":"invalid destination url"}' });
      expect(qstash.seen()).toBe(1);
      const limited = await flaky([{ status: 429, body: "" }]);
      await expect(publishBatch(limited.target, [message])).rejects.toMatchObject({
        status: 429,
        message: "QStash answered 429",
      });
      await limited.close();
    } finally {
      await qstash.close();
    }
  });

  it("the jobstash dev server's refusal reaches the caller as a PublishError", async () => {
    const server = createDevServer();
    try {
      const { url } = await server.listen({ port: 0 });
      const error = await publish({ url, token: "not-a-token" }, message).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishError);
      expect((error as PublishError).status).toBe(401);
      const id = await publish({ url, token: DEV_USERS.defaultUser.token }, message);
      expect(id).toMatch(/^msg_/);
    } finally {
      await server.close();
    }
  });

  it("a dropped connection is retried, as the SDK retries it", async () => {
    const qstash = await flaky(["drop", { status: 200, body: '{"messageId":"msg_after_retry"}' }]);
    try {
      expect(await publish(qstash.target, message)).toBe("msg_after_retry");
      expect(qstash.seen()).toBe(2);
    } finally {
      await qstash.close();
    }
  });

  it("an answer that is not JSON, or breaks off, is a PublishError naming the URL, not retried", async () => {
    const html = await flaky([{ status: 200, body: "<!doctype html><title>My app</title>" }]);
    const cut = await flaky(["cut"]);
    try {
      const notJson = await publish(html.target, message).catch((e: unknown) => e);
      expect(notJson).toBeInstanceOf(PublishError);
      expect(notJson).toMatchObject({
        status: 200,
        message: `QStash at ${html.target.url} (QSTASH_URL / qstash.url) answered 200 with something other than JSON ("<!doctype html><title>My app</title>"); is that QStash's URL?`,
      });
      expect((notJson as Error).cause).toBeInstanceOf(SyntaxError);
      const broken = await publish(cut.target, message).catch((e: unknown) => e);
      expect(broken).toBeInstanceOf(PublishError);
      expect((broken as Error).message).toMatch(
        new RegExp(`^QStash at ${cut.target.url} \\(QSTASH_URL / qstash\\.url\\) broke off its answer: `),
      );
      expect([html.seen(), cut.seen()]).toEqual([1, 1]);
    } finally {
      await html.close();
      await cut.close();
    }
  });
});
