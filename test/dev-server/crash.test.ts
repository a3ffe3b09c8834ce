import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEV_USERS } from "jobstash/dev-server";
import { afterAll, describe, expect, it } from "vitest";
import { type CliRun, startCli } from "../helpers/cli.js";

// Crash tests: a real `jobstash dev --data` process is killed with SIGKILL at a random point of
// a storm of publishes, batches, enqueues, schedule changes and DLQ retries, then started again
// on the same directory. Every message the API acknowledged must end delivered or in the DLQ,
// and only one that was in flight at the kill may be delivered twice.
const token = DEV_USERS.defaultUser.token;
const runs: CliRun[] = [];
afterAll(() => {
  for (const r of runs) if (r.child.exitCode === null) r.child.kill("SIGKILL");
});

/**
 * An endpoint that answers with `reply` and knows when it is quiet: no connection open and no
 * request being answered. Once the killed server's connections are closed and answered, every
 * later delivery comes from the restarted one.
 */
async function endpoint(reply: (path: string, id: string, retried: string) => Promise<number>) {
  let open = 0;
  let busy = 0;
  const server = http.createServer((req, res) => {
    busy++;
    req.resume();
    req.on("end", async () => {
      const status = await reply(
        req.url ?? "",
        String(req.headers["upstash-message-id"]),
        String(req.headers["upstash-retried"]),
      );
      busy--;
      res.writeHead(status, status === 489 ? { "Upstash-NonRetryable-Error": "true" } : {});
      res.end();
    });
  });
  server.on("connection", (socket) => {
    open++;
    socket.on("close", () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    quiet: () => open === 0 && busy === 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** mulberry32: a seeded PRNG, so a failing seed can be replayed. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function startServer(dir: string): Promise<{ run: CliRun; url: string }> {
  const run = startCli([
    "dev",
    "--port",
    "0",
    "--data",
    dir,
    "--quiet",
    "--no-sync",
    "--retry-scale",
    "0.001",
  ]);
  runs.push(run);
  const [, url] = await run.waitFor(/QSTASH_URL=(http:\/\/127\.0\.0\.1:\d+)/, 20_000);
  return { run, url: url! };
}

interface Seen {
  /** When each 2xx answer to a delivery of the message was sent. */
  ok: number[];
  /** Path and Upstash-Retried of each, for the failure message. */
  how: string[];
}

async function storm(seed: number) {
  const random = prng(seed);
  const dir = mkdtempSync(join(tmpdir(), "jobstash-crash-"));
  const seen = new Map<string, Seen>();
  const flakyTried = new Set<string>();
  const receiver = await endpoint(async (path, id, retried) => {
    if (path === "/dead") return 489;
    if (path === "/flaky" && !flakyTried.has(id)) {
      flakyTried.add(id);
      return 500;
    }
    if (path === "/slow") await new Promise((resolve) => setTimeout(resolve, 30));
    const s = seen.get(id) ?? { ok: [], how: [] };
    s.ok.push(Date.now());
    s.how.push(`${path} retried=${retried}`);
    seen.set(id, s);
    return 200;
  });
  const first = await startServer(dir);
  const acked = new Map<string, string>(); // message id -> path
  const schedules = new Set<string>();
  // Message ids ever listed in the DLQ: final, even if a DLQ retry later replaced the entry.
  const dead = new Set<string>();
  const auth = { authorization: `Bearer ${token}` };
  const request = async (url: string, init: RequestInit) => {
    const res = await fetch(url, { ...init, headers: { ...auth, ...init.headers } });
    if (!res.ok) throw new Error(`${init.method} ${url}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const paths = ["/ok", "/ok", "/slow", "/flaky", "/dead"];
  const pick = () => paths[Math.floor(random() * paths.length)]!;
  const base = first.url;
  const ops: (() => Promise<void>)[] = [
    async () => {
      const path = pick();
      const delay: Record<string, string> = random() < 0.3 ? { "upstash-delay": "1s" } : {};
      const r = await request(`${base}/v2/publish/${receiver.url}${path}`, {
        method: "POST",
        body: "p",
        headers: delay,
      });
      acked.set(r.messageId, path);
    },
    async () => {
      const items = Array.from({ length: 5 }, () => ({ destination: `${receiver.url}${pick()}`, body: "b" }));
      const r = (await request(`${base}/v2/batch`, { method: "POST", body: JSON.stringify(items) })) as {
        messageId: string;
      }[];
      for (const [i, m] of r.entries()) acked.set(m.messageId, new URL(items[i]!.destination).pathname);
    },
    async () => {
      const r = await request(`${base}/v2/enqueue/fifo/${receiver.url}/ok`, { method: "POST", body: "q" });
      acked.set(r.messageId, "/ok");
    },
    async () => {
      const id = `s${Math.floor(random() * 20)}`;
      await request(`${base}/v2/schedules/${receiver.url}/ok`, {
        method: "POST",
        body: "s",
        headers: { "upstash-cron": "0 0 1 1 *", "upstash-schedule-id": id },
      });
      schedules.add(id);
    },
    async () => {
      const { messages } = await request(`${base}/v2/dlq?count=5`, { method: "GET" });
      for (const m of messages) dead.add(m.messageId);
      const entry = messages[Math.floor(random() * messages.length)];
      if (!entry) return;
      const r = await request(`${base}/v2/dlq/retry/${entry.dlqId}`, { method: "POST" }).catch(
        () => undefined,
      );
      if (r) acked.set(r.messageId, "/dead");
    },
  ];
  await request(`${base}/v2/queues`, {
    method: "POST",
    body: JSON.stringify({ queueName: "fifo", parallelism: 1 }),
  });

  let stop = false;
  const worker = async () => {
    while (!stop) await ops[Math.floor(random() * ops.length)]!().catch(() => {});
  };
  const workers = Array.from({ length: 6 }, worker);
  await new Promise((resolve) => setTimeout(resolve, 300 + random() * 700));
  first.run.child.kill("SIGKILL");
  stop = true;
  await Promise.all(workers);
  await first.run.exited;
  // What the killed server sent may still be arriving: wait until its connections are closed and
  // answered (twice in a row, a little apart), so every delivery after this is the new server's.
  for (let quietFor = 0, deadline = Date.now() + 10_000; quietFor < 2 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    quietFor = receiver.quiet() ? quietFor + 1 : 0;
  }
  const restartedAt = Date.now();

  const second = await startServer(dir);
  // Everything acknowledged ends delivered or in the DLQ (delayed ones included: 1 s).
  const pending = async () => {
    for (let cursor: string | undefined = "0"; cursor !== undefined; ) {
      const page = await request(`${second.url}/v2/dlq?count=1000&cursor=${cursor}`, { method: "GET" });
      for (const m of page.messages) dead.add(m.messageId);
      cursor = page.cursor;
    }
    return [...acked.keys()].filter((id) => !seen.has(id) && !dead.has(id));
  };
  const deadline = Date.now() + 20_000;
  let left = await pending();
  while (left.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await pending();
  }
  const kept = (
    (await request(`${second.url}/v2/schedules`, { method: "GET" })) as { scheduleId: string }[]
  ).map((s) => s.scheduleId);
  const stuck = await Promise.all(
    left.map((id) => fetch(`${second.url}/v2/messages/${id}`, { headers: auth }).then((r) => r.text())),
  );
  second.run.child.kill("SIGTERM");
  await second.run.exited;
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    acked,
    seen,
    left: left.map((id, i) => `${id} ${acked.get(id)} ${stuck[i]}`),
    restartedAt,
    schedules,
    kept,
  };
}

describe("jobstash dev --data survives SIGKILL", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: nothing acknowledged is lost; only what was in flight is delivered twice`, async () => {
      const { acked, seen, left, restartedAt, schedules, kept } = await storm(seed);
      expect(acked.size, "the storm acknowledged messages before the kill").toBeGreaterThan(10);
      expect(left, "acknowledged messages neither delivered nor in the DLQ").toEqual([]);
      expect(kept, "acknowledged schedules").toEqual(expect.arrayContaining([...schedules]));
      for (const [id, s] of seen) {
        if (s.ok.length < 2) continue;
        expect(s.ok.length, `${id} delivered more than twice`).toBe(2);
        expect(s.ok[0]!, `${id}: delivered twice after the restart (${s.how.join("; ")})`).toBeLessThan(
          restartedAt,
        );
        expect(s.ok[1]!, `${id}: delivered twice before the kill`).toBeGreaterThanOrEqual(restartedAt);
      }
    }, 60_000);
  }
});
