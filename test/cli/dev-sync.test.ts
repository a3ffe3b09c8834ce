import { createJobstash, defineJob } from "jobstash";
import { expect, it } from "vitest";
import { z } from "zod";
import { syncOnStart } from "../../src/cli/dev-sync.js";

it("says in one line that an app declaring nothing has nothing to sync, and contacts no server", async () => {
  const jobs = createJobstash({
    app: "quiet",
    jobs: [defineJob({ id: "a", input: z.any(), run: () => 1 })],
    baseUrl: "http://127.0.0.1:3000/api/jobs",
    env: {},
  });
  const lines: string[] = [];
  // Port 9 (discard) answers nothing: a sync attempt would end in a "sync failed" line.
  await syncOnStart({
    registry: Promise.resolve(jobs),
    url: "http://127.0.0.1:9",
    log: (line) => lines.push(line),
  });
  expect(lines).toEqual([
    'jobstash dev: app "quiet" declares no schedules, queues or flow-control keys; nothing to sync',
  ]);
});
