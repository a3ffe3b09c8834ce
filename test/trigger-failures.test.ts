import { createServer, type Socket } from "node:net";
import { ConfigError, createJobstash, defineJob, PublishError } from "jobstash";
import { DEV_USERS } from "jobstash/dev-server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { freePort, waitFor } from "./helpers/process.js";

/**
 * What trigger does when QStash cannot be reached, never answers, or is configured so that it
 * cannot work: a bounded wait, and errors that name the URL and the setting to fix.
 */

const BASE = "https://app.example.com/api/jobs";
const plain = defineJob({ id: "plain", input: z.object({ n: z.number() }), run: () => undefined });

/** A registry whose settings come from `env` only, plus `qstash` options. */
function registry(env: Record<string, string>, qstash: { url?: string; token?: string; timeout?: any } = {}) {
  return createJobstash({ app: "acme", jobs: [plain], baseUrl: BASE, env, qstash });
}

/**
 * A TCP server that accepts connections and never answers. `requests` are the open
 * connections a request came in on (Node's fetch may also open a spare one, idle, which it
 * closes after its keep-alive timeout).
 */
async function silentServer() {
  const open = new Set<Socket>();
  const requests = new Set<Socket>();
  let received = 0;
  const server = createServer((socket) => {
    open.add(socket);
    socket.once("data", () => {
      requests.add(socket);
      received++;
    });
    socket.on("close", () => {
      open.delete(socket);
      requests.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    received: () => received,
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("trigger against a QStash that fails to answer", () => {
  it("settles with a PublishError within the configured timeout, and closes the connection", async () => {
    const qstash = await silentServer();
    try {
      const jobs = registry({}, { url: qstash.url, token: "t", timeout: "300ms" });
      const started = Date.now();
      const error = await jobs.trigger("plain", { n: 1 }).catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(PublishError);
      expect((error as PublishError).status).toBe(0);
      expect((error as Error).message).toBe(
        `QStash at ${qstash.url} (qstash.url) did not answer within 300 ms, so the request was aborted; the qstash.timeout option sets the limit`,
      );
      expect(((error as Error).cause as Error).name).toBe("TimeoutError");
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(2_000);
      // The aborted request leaves no socket open on either side.
      expect(qstash.received()).toBe(1);
      await waitFor(
        "the aborted request's connection to close",
        async () => qstash.requests.size === 0,
        1_000,
      );
    } finally {
      await qstash.close();
    }
  });

  it("names the URL and QSTASH_URL when the port is closed, after retrying within the timeout", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const jobs = registry({ QSTASH_URL: url, QSTASH_TOKEN: "t" }, { timeout: "1s" });
    const started = Date.now();
    const error = await jobs.trigger("plain", { n: 1 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^could not reach QStash at ${url} \\(QSTASH_URL\\): connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+ \\(4 attempt\\(s\\)\\); check the URL`,
      ),
    );
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it("refuses a QStash URL that is not an http(s) URL, naming the setting", async () => {
    const option = await registry({}, { url: "not a url", token: "t" })
      .trigger("plain", { n: 1 })
      .catch((e: unknown) => e);
    expect(option).toBeInstanceOf(ConfigError);
    expect((option as Error).message).toMatch(
      /^qstash\.url "not a url" is not an absolute http\(s\) URL: use/,
    );
    const env = await registry({ QSTASH_URL: "qstash.upstash.io", QSTASH_TOKEN: "t" })
      .batch([{ id: "plain", input: { n: 1 } }])
      .catch((e: unknown) => e);
    expect(env).toBeInstanceOf(ConfigError);
    expect((env as Error).message).toMatch(
      /^QSTASH_URL "qstash\.upstash\.io" is not an absolute http\(s\) URL/,
    );
  });

  it("refuses a timeout that is not a duration above 0", async () => {
    for (const timeout of [0, "soon", -1]) {
      await expect(
        registry({}, { url: "http://127.0.0.1:9", token: "t", timeout }).trigger("plain", { n: 1 }),
      ).rejects.toThrow(/^createJobstash: qstash\.timeout must be a duration above 0/);
    }
  });
});

describe("a dev server's token bound for Upstash", () => {
  afterEach(() => vi.unstubAllGlobals());

  /** A fetch that records what would have been sent and answers as QStash does. */
  function recordingFetch() {
    const sent: string[] = [];
    vi.stubGlobal("fetch", async (url: URL | string) => {
      sent.push(String(url));
      return Response.json({ messageId: "msg_recorded" });
    });
    return sent;
  }

  it("is refused before any request, with the fix", async () => {
    const sent = recordingFetch();
    for (const user of Object.values(DEV_USERS)) {
      const error = await registry({ QSTASH_TOKEN: user.token })
        .trigger("plain", { n: 1 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        "QSTASH_TOKEN is a token of the local dev server, but the default QStash URL is https://qstash.upstash.io, Upstash's QStash: set QSTASH_URL to the dev server's URL (`jobstash dev` prints it, e.g. QSTASH_URL=http://127.0.0.1:8080), or use your Upstash token",
      );
    }
    const regional = registry(
      { QSTASH_URL: "https://qstash-eu-central-1.upstash.io/" },
      { token: DEV_USERS.defaultUser.token },
    );
    await expect(regional.batch([{ id: "plain", input: { n: 1 } }])).rejects.toThrow(
      /^qstash\.token is a token of the local dev server, but QSTASH_URL is https:\/\/qstash-eu-central-1\.upstash\.io, Upstash's QStash: set QSTASH_URL/,
    );
    expect(sent).toEqual([]);
    // The same calls with a real token go out (to the recording fetch).
    await registry({ QSTASH_TOKEN: "a-real-token" }).trigger("plain", { n: 1 });
    expect(sent).toEqual([`https://qstash.upstash.io/v2/publish/${BASE}/plain`]);
  });
});
