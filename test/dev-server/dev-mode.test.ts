import { Client } from "@upstash/qstash";
import { createDevServer } from "jobstash/dev-server";
import { afterAll, expect, it, vi } from "vitest";
import { startReceiver } from "./helpers.js";

// QSTASH_DEV=true makes the SDK ignore baseUrl/token and probe GET /v2/keys on
// 127.0.0.1:$QSTASH_DEV_PORT; recognising the default dev keys there, it downloads nothing.
const saved = { dev: process.env.QSTASH_DEV, port: process.env.QSTASH_DEV_PORT };
afterAll(() => {
  for (const [k, v] of [
    ["QSTASH_DEV", saved.dev],
    ["QSTASH_DEV_PORT", saved.port],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

it("is found by an SDK Client in dev mode, which then publishes to it", async () => {
  const server = createDevServer();
  const listening = await server.listen({ port: 0 });
  const receiver = await startReceiver();
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    process.env.QSTASH_DEV = "true";
    process.env.QSTASH_DEV_PORT = String(listening.port);
    const client = new Client({ retry: false });
    const res = await client.publishJSON({ url: `${receiver.url}/dev`, body: { ok: true } });
    const [d] = await receiver.waitFor(1);
    expect(d!.headers["upstash-message-id"]).toBe(res.messageId);
    expect(d!.verified).toBe(true);
    expect(log.mock.calls.some((args) => String(args[0]).includes("Server already running"))).toBe(true);
  } finally {
    log.mockRestore();
    await server.close();
    await receiver.close();
  }
});
