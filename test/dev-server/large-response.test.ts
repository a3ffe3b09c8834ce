import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Client, Receiver } from "@upstash/qstash";
import { createHandler, createJobstash, defineJob } from "jobstash";
import { createDevServer, DEFAULT_DEV_USER, type DevServer, type LifecycleEvent } from "jobstash/dev-server";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

// A job's output travels back through the dev server to onSuccess: the real receiver
// (createHandler) behind a real HTTP server, the dev server over real HTTP.

const MiB = 1024 * 1024;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start(maxBodySize?: number) {
  const events: LifecycleEvent[] = [];
  const server: DevServer = createDevServer({ maxBodySize, logger: (e) => events.push(e) });
  const dev = await server.listen({ port: 0 });
  const outputs: number[] = [];
  const warnings: string[] = [];
  const big = defineJob({
    id: "big",
    input: z.object({ bytes: z.number() }),
    retries: 0,
    run: ({ bytes }) => ({ data: "x".repeat(bytes) }),
    onSuccess: ({ output }) => {
      outputs.push(output.data.length);
    },
  });
  const keys = {
    currentSigningKey: DEFAULT_DEV_USER.currentSigningKey,
    nextSigningKey: DEFAULT_DEV_USER.nextSigningKey,
  };
  // Every success callback also goes through the official Receiver, marker and all.
  const official = new Receiver(keys);
  const callbacksVerified: boolean[] = [];
  let handle: ((request: Request) => Promise<Response>) | undefined;
  const receiver = serve({
    fetch: async (request: Request) => {
      if (request.url.includes("callback=success")) {
        const body = await request.clone().text();
        const signature = request.headers.get("upstash-signature") ?? "";
        callbacksVerified.push(
          await official.verify({ signature, body, url: request.url }).catch(() => false),
        );
      }
      return handle!(request);
    },
    port: 0,
    hostname: "127.0.0.1",
  }) as Server;
  await new Promise<void>((resolve) =>
    receiver.listening ? resolve() : receiver.once("listening", () => resolve()),
  );
  const jobs = createJobstash({
    app: "large",
    jobs: [big],
    env: {
      QSTASH_URL: dev.url,
      QSTASH_TOKEN: DEFAULT_DEV_USER.token,
      QSTASH_CURRENT_SIGNING_KEY: keys.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: keys.nextSigningKey,
      JOBSTASH_BASE_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/jobs`,
    },
    logger: { debug() {}, info() {}, warn: (line: string) => warnings.push(line), error() {} },
  });
  const handler = createHandler(jobs);
  handle = (request) => handler(request);
  closers.push(async () => {
    await server.close();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });
  const client = new Client({ baseUrl: dev.url, token: DEFAULT_DEV_USER.token, retry: false });
  return { server, jobs, client, events, outputs, warnings, callbacksVerified };
}

describe("response bodies through the dev server", () => {
  it("brings a 2 MiB output back to onSuccess whole", async () => {
    const { server, jobs, client, outputs, callbacksVerified } = await start();
    await jobs.trigger("big", { bytes: 2 * MiB });
    await server.drained();
    expect(outputs).toEqual([2 * MiB]);
    expect(callbacksVerified).toEqual([true]);
    expect((await client.dlq.listMessages()).messages).toEqual([]);
  });

  it("names a body cut at maxBodySize in the callback, the log and the receiver's answer", async () => {
    const limit = 256 * 1024;
    const { server, jobs, client, events, outputs, warnings, callbacksVerified } = await start(limit);
    const messageId = await jobs.trigger("big", { bytes: 300 * 1024 });
    await server.drained();
    expect(outputs).toEqual([]);
    // The official Receiver accepts the callback that carries the marker.
    expect(callbacksVerified).toEqual([true]);
    const fullSize = JSON.stringify({ data: "x".repeat(300 * 1024) }).length;
    const delivered = events.find((e) => e.messageId === messageId && e.state === "DELIVERED");
    expect(delivered).toMatchObject({ truncatedFrom: fullSize });
    expect(delivered!.responseBody).toHaveLength(limit);

    const expected = `the job's output (${fullSize} bytes) was cut to its first ${limit} bytes on its way back`;
    expect(warnings).toEqual([expect.stringContaining(expected)]);
    // The callback waits in the DLQ with the receiver's reason, not a JSON complaint.
    const [dead] = (await client.dlq.listMessages()).messages;
    expect(dead!.url).toContain("callback=success");
    expect(dead!.responseStatus).toBe(489);
    const body = JSON.parse(dead!.responseBody!) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("OUTPUT_TRUNCATED");
    expect(body.error.message).toContain(expected);
    // The callback body itself says what was cut, next to QStash's own fields.
    expect(JSON.parse(dead!.body!)).toMatchObject({
      status: 200,
      sourceMessageId: messageId,
      jobstashBodyTruncated: { size: fullSize, kept: limit },
    });
  });
});
