import { fileURLToPath } from "node:url";
import { background, freePort, run, waitFor } from "../helpers/process.js";
import type { Harness } from "./harness.js";
import { type RunningExample, sharedExampleScenarios } from "./shared-example.js";

/**
 * The Next.js example (examples/next) built once with `next build` and served by `next start`
 * in a child process that reads its QStash settings from its own environment, as a deployment
 * does. The example mounts the jobs twice, and the shared scenarios run against each mount:
 * the App Router route (app/api/jobs/[...job]/route.ts) and the Pages Router API route
 * (pages/api/pages-jobs/[...job].ts, bodyParser off). Each gets its own `next start` with
 * JOBSTASH_BASE_URL set to its mount, so the signup route triggers into that mount; both
 * share the one build. The example imports jobstash from dist/ (`npm run build` first;
 * `npm test` does). Its hooks log to the child's stdout. The dev server stays in this process
 * on a virtual clock: deliveries reach `next start` over real HTTP, and advancing the clock
 * waits for their answers, so retries and the cron tick take no wall time.
 */
const app = fileURLToPath(new URL("../../examples/next", import.meta.url));
const next = fileURLToPath(new URL("../../node_modules/next/dist/bin/next", import.meta.url));

// The build is most of the cost; whichever mount starts first runs it, the other waits for it.
let built: Promise<string> | undefined;
const build = () =>
  (built ??= run(process.execPath, [next, "build"], { cwd: app, env: { NEXT_TELEMETRY_DISABLED: "1" } }));

/** `next start` on a free port, with its jobs expected at `mount` (e.g. `/api/jobs`). */
function startNext(mount: string) {
  return async (qstashEnv: Harness["env"]): Promise<RunningExample> => {
    await build();
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const baseUrl = `${origin}${mount}`;
    const server = background(process.execPath, [next, "start", "-p", String(port), "-H", "127.0.0.1"], {
      cwd: app,
      env: { ...qstashEnv, JOBSTASH_BASE_URL: baseUrl, NEXT_TELEMETRY_DISABLED: "1" },
    });
    try {
      // Any answer will do (an unsigned POST gets 401): the server is up.
      await waitFor(`next start on ${origin}`, async () => {
        await fetch(`${baseUrl}/heartbeat`, { method: "POST" });
        return true;
      });
    } catch (error) {
      await server.stop();
      throw new Error(`${(error as Error).message}\n${server.output()}`);
    }
    return {
      baseUrl,
      signupUrl: `${origin}/api/signup`,
      output: () => server.output().split("\n"),
      close: server.stop,
    };
  };
}

sharedExampleScenarios("Next.js App Router", startNext("/api/jobs"), { startTimeout: 120_000 });
sharedExampleScenarios("Next.js Pages Router", startNext("/api/pages-jobs"), { startTimeout: 120_000 });
