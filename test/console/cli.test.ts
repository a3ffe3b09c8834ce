import { describe, expect, it } from "vitest";
import { jobstash, requireBuiltCli } from "../cli/run.js";

requireBuiltCli();

describe("jobstash dev serves the console", () => {
  it("prints its URL, and shows the registry of jobstash.config.ts with its synced schedule", async () => {
    const dev = jobstash(["dev", "--port", "0", "--quiet", "--base-url", "http://127.0.0.1:9/jobs"]);
    const [, url] = await dev.waitFor(/^jobstash dev: console on (\S+) \(open it in a browser\)$/m);
    await dev.waitFor(/jobstash dev: synced/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/);
    const jobs = await (await fetch(`${url}jobs`)).text();
    expect(jobs).toMatch(/<a class="job" href="\/console\/jobs\/digest">digest<\/a>/);
    const job = await (await fetch(`${url}jobs/digest`)).text();
    expect(job).toContain("http://127.0.0.1:9/jobs/digest");
    const schedules = await (await fetch(`${url}schedules`)).text();
    expect(schedules).toContain('data-schedule="cli-test.development.digest.daily"');
    expect(await dev.stop()).toBe(0);
  });

  it("shows a config that failed to load on the Jobs page, and keeps serving", async () => {
    const dev = jobstash(["dev", "--port", "0", "--quiet", "--no-sync"], {
      env: { CLI_TEST_THROW: "no database here" },
    });
    const [, url] = await dev.waitFor(/console on (\S+) /);
    const jobs = await (await fetch(`${url}jobs`)).text();
    expect(jobs).toMatch(
      /The registry could not be loaded: could not load .*jobstash\.config\.ts: no database here/,
    );
    expect(await dev.stop()).toBe(0);
  });
});
