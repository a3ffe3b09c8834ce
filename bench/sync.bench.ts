// `npm run bench -- sync`: jobstash sync of 500 schedules, 20 queues and 20 flow-control keys
// against the dev server (its own process, real HTTP), first apply and no-op re-run, next to
// a naive baseline in the same run (delete everything, then create each resource serially).
import { spawn } from "node:child_process";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@upstash/qstash";
import { createJobstash, defineFlowControl, defineJob, defineQueue } from "jobstash";
import { DEV_USERS } from "jobstash/dev-server";
import { desiredState, syncJobstash } from "jobstash/sync";
import { z } from "zod";
import { freePort } from "../test/helpers/process.js";

/** Round trips QStash has from a CI runner are tens of ms; localhost has none, so it is modelled. */
const RTT_MS = 20;
const REPEAT = 3;
const SCHEDULES = 500;
const QUEUES = 20;
const KEYS = 20;
const BASE = "https://bench.example.com/api/jobs";

/** Forwards to `target` after `delayMs`, as a network round trip would cost. */
async function latencyProxy(target: string, delayMs: number): Promise<{ url: string; close(): void }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const { hostname, port } = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      setTimeout(() => {
        const out = http.request(
          { agent, hostname, port, method: req.method, path: req.url, headers: req.headers },
          (upstream) => {
            res.writeHead(upstream.statusCode ?? 502, upstream.headers);
            upstream.pipe(res);
          },
        );
        out.on("error", () => res.destroy());
        out.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.close();
      server.closeAllConnections();
      agent.destroy();
    },
  };
}

/** A client whose every HTTP call is counted (reads and writes apart). */
function countingClient(url: string, token: string) {
  const client = new Client({ baseUrl: url, token, retry: false });
  const counts = { reads: 0, writes: 0 };
  const inner = client.http.request.bind(client.http);
  client.http.request = ((req: { method?: string }) => {
    if ((req.method ?? "GET") === "GET") counts.reads++;
    else counts.writes++;
    return inner(req as never);
  }) as typeof client.http.request;
  return {
    client,
    counts,
    reset: () => {
      counts.reads = 0;
      counts.writes = 0;
    },
  };
}

const jobsPerQueue = SCHEDULES / QUEUES;
const jobs = Array.from({ length: QUEUES }, (_, q) =>
  defineJob({
    id: `job-${q}`,
    input: z.object({ n: z.number() }),
    queue: `queue-${q}`,
    flowControl: { key: `key-${q}`, parallelism: 2 + (q % 3) },
    schedules: Array.from({ length: jobsPerQueue }, (_, i) => ({
      id: `s${i}`,
      cron: `${i % 60} ${(q + i) % 24} * * *`,
      tz: i % 2 ? "Europe/Paris" : "UTC",
      input: { n: i },
    })),
    run: () => undefined,
  }),
);
const flowControls = Array.from({ length: KEYS }, (_, q) =>
  defineFlowControl({ key: `key-${q}`, parallelism: 2 + (q % 3) }),
);
const queues = Array.from({ length: QUEUES }, (_, q) =>
  defineQueue({ name: `queue-${q}`, parallelism: 1 + (q % 4) }),
);

async function measure(url: string, title: string, firstUser = 0) {
  const [ours, naive] = [Object.values(DEV_USERS)[firstUser]!, Object.values(DEV_USERS)[firstUser + 1]!];
  const registry = createJobstash({
    app: "bench",
    jobs,
    queues,
    flowControls,
    env: { JOBSTASH_BASE_URL: BASE },
  });
  const bindings = { JOBSTASH_BASE_URL: BASE, QSTASH_URL: url, QSTASH_TOKEN: ours.token };

  // The dev server only accepts a pin for a key a message has used (see the sync report);
  // both users get their keys seeded the same way, outside the measurements.
  for (const user of [ours, naive]) {
    const c = new Client({ baseUrl: url, token: user.token });
    for (let q = 0; q < KEYS; q++) {
      const { messageId } = await c.publishJSON({
        url: `${BASE}/seed`,
        body: {},
        delay: "1d",
        flowControl: { key: `key-${q}`, parallelism: 1 },
      });
      await c.messages.cancel(messageId);
    }
  }

  const counted = countingClient(url, ours.token);
  const run = async (label: string) => {
    counted.reset();
    const started = performance.now();
    const { report } = await syncJobstash(registry, {
      env: "production",
      bindings,
      client: counted.client,
      // The default unless told otherwise, so the figures are what users get.
      ...(process.env.SYNC_BENCH_CONCURRENCY && { concurrency: Number(process.env.SYNC_BENCH_CONCURRENCY) }),
    });
    const ms = performance.now() - started;
    return { label, ms, reads: counted.counts.reads, writes: counted.counts.writes, report: report! };
  };

  // Naive: what a deploy script without a planner does, serially, every deploy.
  const desired = await desiredState(registry, { env: "production", bindings });
  const baseline = countingClient(url, naive.token);
  const naiveRun = async (label: string) => {
    baseline.reset();
    const c = baseline.client;
    const started = performance.now();
    for (const s of await c.schedules.list()) await c.schedules.delete(s.scheduleId);
    for (const q of await c.queue().list()) await c.queue({ queueName: q.name }).delete();
    for (const q of desired.queues) {
      await c.queue({ queueName: q.name }).upsert({ parallelism: q.parallelism, paused: q.paused });
    }
    for (const fc of desired.flowControls) {
      await c.flowControl.pin(fc.key, { parallelism: fc.parallelism });
    }
    for (const s of desired.schedules) {
      const { "content-type": _ct, ...headers } = s.spec.headers;
      await c.schedules.create({
        scheduleId: s.id,
        destination: s.spec.destination,
        cron: s.spec.tz === "UTC" ? s.spec.cron : `CRON_TZ=${s.spec.tz} ${s.spec.cron}`,
        body: s.spec.body,
        headers,
        retries: s.spec.retries,
        queueName: s.spec.queue,
        flowControl: s.spec.flowControl as { key: string; parallelism: number },
        label: [...s.spec.labels],
      });
    }
    const ms = performance.now() - started;
    return { label, ms, reads: baseline.counts.reads, writes: baseline.counts.writes };
  };

  const wipe = async (c: Client) => {
    for (const sch of await c.schedules.list()) await c.schedules.delete(sch.scheduleId);
    for (const q of await c.queue().list()) await c.queue({ queueName: q.name }).delete();
    for (let q = 0; q < KEYS; q++) await c.flowControl.unpin(`key-${q}`, { parallelism: true, rate: true });
  };
  // The machine is shared: each figure is the median of REPEAT runs, each first run on a wiped account.
  type Row = { label: string; ms: number; reads: number; writes: number };
  const rows: Row[][] = [[], [], [], []];
  let firstReport: Awaited<ReturnType<typeof run>>["report"] | undefined;
  for (let i = 0; i < REPEAT; i++) {
    await wipe(new Client({ baseUrl: url, token: ours.token }));
    await wipe(new Client({ baseUrl: url, token: naive.token }));
    const first = await run("jobstash sync, first apply");
    firstReport ??= first.report;
    rows[0]!.push(first);
    rows[1]!.push(await run("jobstash sync, no-op re-run"));
    rows[2]!.push(await naiveRun("naive baseline, first deploy"));
    rows[3]!.push(await naiveRun("naive baseline, re-deploy"));
  }
  const median = (list: Row[]): Row => [...list].sort((x, y) => x.ms - y.ms)[Math.floor(list.length / 2)]!;
  const [first, noop, naiveFirst, naiveAgain] = rows.map(median) as [Row, Row, Row, Row];

  console.log(`\n${title} (median of ${REPEAT})\n`);
  console.log(`${"run".padEnd(32)} ${"wall ms".padStart(9)} ${"reads".padStart(6)} ${"writes".padStart(7)}`);
  for (const r of [first, noop, naiveFirst, naiveAgain]) {
    console.log(
      `${r.label.padEnd(32)} ${r.ms.toFixed(0).padStart(9)} ${String(r.reads).padStart(6)} ${String(r.writes).padStart(7)}`,
    );
  }
  const speedup = naiveFirst.ms / first.ms;
  console.log(`\nfirst apply vs naive first deploy: ${speedup.toFixed(1)}x faster (target >= 5x)`);
  console.log(`no-op re-run vs naive re-deploy:   ${(naiveAgain.ms / noop.ms).toFixed(1)}x faster`);
  const noopOk = noop.writes === 0 && noop.reads <= 3;
  console.log(
    `no-op re-run: ${noop.reads} list call(s), ${noop.writes} write(s) (target <= 3 lists, 0 writes): ${noopOk ? "met" : "MISSED"}`,
  );
  console.log(`first apply target: ${speedup >= 5 ? "met" : "MISSED"}`);
  if (firstReport && (firstReport.failed.length || firstReport.skipped.length)) {
    console.log("first apply problems:", firstReport.failed, firstReport.skipped);
  }
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const port = await freePort();
  const dev = spawn(
    process.execPath,
    [join(here, "../dist/cli/index.js"), "dev", "--port", String(port), "--quiet", "--no-sync"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    dev.once("exit", (code) => reject(new Error(`dev server exited with ${code}`)));
    dev.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("QSTASH_URL=")) resolve();
    });
  });
  const direct = `http://127.0.0.1:${port}`;
  try {
    console.log(
      `sync of ${SCHEDULES} schedules + ${QUEUES} queues + ${KEYS} flow-control keys; dev server in its own process`,
    );
    await measure(direct, "localhost, no network latency (the dev server's own throughput bounds both)");
    // The other two dev users give the second profile a fresh, isolated account.
    const proxy = await latencyProxy(direct, RTT_MS);
    try {
      await measure(proxy.url, `through a proxy adding ${RTT_MS} ms per request (a CI runner to QStash)`, 2);
    } finally {
      proxy.close();
    }
  } finally {
    dev.kill("SIGTERM");
  }
}

await main();
