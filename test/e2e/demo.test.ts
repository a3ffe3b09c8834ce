import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { run } from "../helpers/process.js";

// The README's first command, `npm start`, runs examples/hono/demo.ts: the dev server, the
// Hono example, sync, and two triggered jobs. `--once` ends it after the demo; ports 0 keep
// it clear of anything else on the machine.
it("npm start's demo syncs schedules, delivers a job, calls back and dead-letters a bad one", async () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const output = await run(process.execPath, ["--import", "tsx", "examples/hono/demo.ts", "--once"], {
    cwd: root,
    env: { QSTASH_DEV_PORT: "0", PORT: "0", NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  expect(output).toMatch(
    /\+ jobstash-examples\.development\.heartbeat\.every-minute\s+cron "\* \* \* \* \*" UTC/,
  );
  expect(output).toMatch(/Plan: 1 to create/);
  expect(output).toMatch(/DELIVERED\s+msg_\S+ → http:\/\/127\.0\.0\.1:\d+\/api\/jobs\/send-welcome \(200/);
  expect(output).toMatch(/onSuccess: welcome mail for Ada delivered to ada@example\.com/);
  expect(output).toMatch(/FAILED\s+msg_\S+ → http:\/\/127\.0\.0\.1:\d+\/api\/jobs\/verify-address \(489/);
  expect(output).toMatch(/is in the dead-letter queue/);
  expect(output).toMatch(/done\.\s*$/);
}, 60_000);
