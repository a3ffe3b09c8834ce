import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { background, freePort, run, waitFor } from "../helpers/process.js";
import { conformance, type Running, type Seen } from "./conformance.js";

// A real Next.js app (test/apps/next) built with `next build` and served by `next start`,
// importing jobstash from dist/ as an installed package. Four routes, one per way to mount:
// App Router on the Node.js runtime, App Router on the Edge runtime, the Pages Router with
// bodyParser off, and a Pages route that left Next's body parser on.
const app = fileURLToPath(new URL("../apps/next", import.meta.url));
const next = fileURLToPath(new URL("../../node_modules/next/dist/bin/next", import.meta.url));
const env = { NEXT_TELEMETRY_DISABLED: "1" };

let origin = "";
let server: ReturnType<typeof background> | undefined;

beforeAll(async () => {
  await run(process.execPath, [next, "build"], { cwd: app, env });
  const port = await freePort();
  server = background(process.execPath, [next, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: app,
    env,
  });
  origin = `http://127.0.0.1:${port}`;
  await waitFor(
    `next start on ${origin}\n${server.output()}`,
    async () => (await fetch(`${origin}/api/jobs/x`, { method: "PUT" })).ok,
  );
}, 240_000);

afterAll(() => server?.stop());

/** Each route keeps its own fixture; PUT reads it, `?reset` clears it for the next test. */
function route(prefix: string) {
  const seen = async (reset = false) =>
    (await (
      await fetch(`${origin}${prefix}/api/jobs/__seen${reset ? "?reset" : ""}`, { method: "PUT" })
    ).json()) as Seen;
  return async (): Promise<Running> => {
    await seen(true);
    return { origin: origin + prefix, seen: () => seen(), close: async () => {} };
  };
}

conformance({ name: "Next.js App Router (Node.js runtime)", start: route("") });
conformance({ name: "Next.js App Router (Edge runtime)", start: route("/edge") });
conformance({
  name: "Next.js Pages Router",
  start: route("/api/pages"),
  startWithParsedBody: route("/api/parsed"),
});
