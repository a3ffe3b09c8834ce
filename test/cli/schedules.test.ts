import { VirtualClock } from "jobstash/dev-server";
import { syncJobstash } from "jobstash/sync";
import { describe, expect, it } from "vitest";
import registry from "./fixtures/ops/jobstash.config.js";
import { opsStackForFile } from "./ops-harness.js";
import { requireBuiltCli } from "./run.js";

requireBuiltCli();
const clock = new VirtualClock(Date.now());
const stack = opsStackForFile(registry, { clock });

describe("jobstash schedules", () => {
  it("lists every schedule with its owner, job, cron and zone, next runs, last run and state", async () => {
    const bindings = {
      QSTASH_URL: stack.url,
      QSTASH_TOKEN: stack.env.QSTASH_TOKEN,
      JOBSTASH_BASE_URL: stack.baseUrl,
    };
    await syncJobstash(registry, { env: "development", bindings });
    await syncJobstash(registry, { env: "test", bindings });
    await stack.client.schedules.create({
      scheduleId: "someone-elses",
      destination: `${stack.baseUrl}/greet`,
      cron: "* * * * *",
      body: JSON.stringify({ name: "cron" }),
    });
    await stack.client.schedules.pause({ schedule: "ops-test.test.nightly.daily" });
    await clock.advance(61_000);

    const r = await stack.cli(["schedules", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ app: "ops-test", env: "development" });
    const byId = Object.fromEntries(out.schedules.map((s: { scheduleId: string }) => [s.scheduleId, s]));
    expect(byId["ops-test.development.nightly.daily"]).toEqual({
      scheduleId: "ops-test.development.nightly.daily",
      owner: "this",
      ownedBy: "ops-test/development",
      jobId: "nightly",
      destination: `${stack.baseUrl}/nightly`,
      cron: "0 7 * * *",
      tz: "Europe/Paris",
      next: [expect.any(String), expect.any(String), expect.any(String)],
      lastRun: null,
      paused: false,
    });
    // Each at 07:00 in Paris (05:00 or 06:00 UTC), on consecutive days.
    const paris = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Paris",
      hour: "2-digit",
      minute: "2-digit",
    });
    const next = byId["ops-test.development.nightly.daily"].next.map((t: string) => new Date(t));
    expect(next.map((d: Date) => paris.format(d))).toEqual(["07:00", "07:00", "07:00"]);
    expect(next[1].getTime() - next[0].getTime()).toBeGreaterThanOrEqual(23 * 3_600_000);
    expect(byId["ops-test.test.nightly.daily"]).toMatchObject({
      owner: "other",
      ownedBy: "ops-test/test",
      paused: true,
      next: [],
    });
    expect(byId["ops-test.development._jobstash"]).toMatchObject({
      owner: "this",
      ownershipRecord: true,
      jobId: null,
    });
    expect(byId["someone-elses"]).toMatchObject({
      owner: "foreign",
      jobId: "greet",
      cron: "* * * * *",
      tz: "UTC",
      paused: false,
      lastRun: { time: expect.any(String), state: "success" },
    });

    const table = await stack.cli(["schedules"], { COLUMNS: "250" });
    expect(table.stdout).toMatch(/^SCHEDULE +JOB +OWNER +STATE +CRON \(ZONE\) +NEXT RUN +LAST RUN \(UTC\)\n/);
    expect(table.stdout).toMatch(
      /ops-test\.development\.nightly\.daily +nightly +this app +active +0 7 \* \* \* \(Europe\/Paris\) +\w{3} \d{4}-\d\d-\d\d 07:00 GMT\+[12] +never\n/,
    );
    expect(table.stdout).toMatch(
      /ops-test\.test\.nightly\.daily +nightly +ops-test\/test +paused +0 7 \* \* \* \(Europe\/Paris\) +- +never\n/,
    );
    expect(table.stdout).toMatch(
      /someone-elses +greet +foreign +active +\* \* \* \* \* \(UTC\) .* \d\d:\d\d:\d\d success\n/,
    );
    expect(table.stdout).toMatch(/\n4 schedules; "this app" is app "ops-test", env development\.\n$/);
    // Seen from the test environment, the owners swap.
    const test = JSON.parse((await stack.cli(["schedules", "--env", "test", "--json"])).stdout);
    expect(
      test.schedules.find((s: { scheduleId: string }) => s.scheduleId === "ops-test.test.nightly.daily")
        .owner,
    ).toBe("this");
  });
});
