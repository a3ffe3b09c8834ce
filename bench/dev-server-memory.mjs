// Memory of the built dev server (what `jobstash dev` runs, without tsx in the process) holding
// DELAYED delayed messages published over real HTTP by a separate process. Run by
// dev-server.bench.ts after `npm run build`; prints one JSON line.
//   BENCH_DATA_DIR: keep the state in that directory (as `jobstash dev --data`).
//   BENCH_RESTART=1: publish nothing; time a restart on BENCH_DATA_DIR until it serves.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

const start = performance.now();
const dist = new URL("../dist/dev-server.js", import.meta.url);
if (!existsSync(dist)) {
  console.error("dist/dev-server.js is missing: run `npm run build` first (npm run bench does)");
  process.exit(1);
}
const { createDevServer, DEV_USERS } = await import(dist.href);
const count = Number(process.env.BENCH_DELAYED ?? 100_000);
const size = Number(process.env.BENCH_BODY ?? 1024);
const dataDir = process.env.BENCH_DATA_DIR || undefined;

const server = createDevServer({ dataDir });
const { url } = await server.listen({ port: 0 });
if (process.env.BENCH_RESTART) {
  // Ready: the state is loaded and the port answers.
  const res = await fetch(`${url}/v2/queues`, {
    headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}` },
  });
  if (!res.ok) throw new Error(`not serving: ${res.status}`);
  const ready = (performance.now() - start) / 1000;
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  console.log(JSON.stringify({ pending: server.pendingCount(), ready, rss: process.memoryUsage().rss }));
  await server.close();
  process.exit(0);
}
globalThis.gc?.();
const before = process.memoryUsage().rss;

const publisher = `
const http = require("node:http");
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const body = Buffer.alloc(${size}, "x");
let i = 0;
const one = () => new Promise((resolve, reject) => {
  const req = http.request(${JSON.stringify(url)} + "/v2/publish/http://127.0.0.1:9/api/jobs/later?i=" + i++, {
    method: "POST", agent,
    headers: { authorization: "Bearer ${DEV_USERS.defaultUser.token}", "content-type": "application/json",
      "upstash-delay": "1d", "upstash-forward-x-tenant": "t1" },
  }, (res) => { res.resume(); res.on("end", () => res.statusCode === 200 ? resolve() : reject(new Error("status " + res.statusCode))); });
  req.on("error", reject);
  req.end(body);
});
const loop = async () => { while (i < ${count}) await one(); };
Promise.all(Array.from({ length: 16 }, loop)).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;
const published = performance.now();
await new Promise((resolve, reject) =>
  spawn(process.execPath, ["-e", publisher], { stdio: "inherit" }).on("exit", (code) =>
    code === 0 ? resolve() : reject(new Error(`publisher exited with ${code}`)),
  ),
);
const seconds = (performance.now() - published) / 1000;
// Full collections so garbage from the publish traffic is not counted as retained.
for (let i = 0; i < 3; i++) globalThis.gc?.();
const m = process.memoryUsage();
console.log(
  JSON.stringify({
    pending: server.pendingCount(),
    seconds,
    rss: m.rss,
    rssBefore: before,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
  }),
);
await server.close();
