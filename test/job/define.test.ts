import { ConfigError, createJobstash, defineJob } from "jobstash";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const input = z.object({ email: z.string().email() });
const run = () => undefined;

describe("defineJob", () => {
  it("keeps the definition and fills in schedule defaults", () => {
    const job = defineJob({
      id: "digest",
      input,
      run,
      schedules: [
        { cron: " 0 9 * * MON-FRI ", tz: "Europe/Paris", input: { email: "ops@acme.dev" } },
        { cron: "*/15 * * * *", input: { email: "b@acme.dev" }, id: "frequent" },
      ],
    });
    expect(job.id).toBe("digest");
    expect(job.schedules).toEqual([
      { id: "0", cron: "0 9 * * MON-FRI", tz: "Europe/Paris", input: { email: "ops@acme.dev" } },
      { id: "frequent", cron: "*/15 * * * *", tz: "UTC", input: { email: "b@acme.dev" } },
    ]);
  });

  it.each([
    [{ id: "has space" }, /defineJob\("has space"\): id must be/],
    [{ id: "" }, /id must be/],
    [{ input: {} }, /input must be a schema/],
    [{ run: "nope" }, /run must be a function/],
    [{ retries: 1.5 }, /retries must be a whole number/],
    [{ retryDelay: "" }, /retryDelay must be milliseconds or a QStash expression/],
    [{ timeout: "10 parsecs" }, /timeout invalid duration "10 parsecs"/],
    [{ delay: -1 }, /delay invalid duration/],
    [{ queue: "a/b" }, /queue must be/],
    [{ flowControl: { key: "k" } }, /flowControl needs `parallelism`, `rate` or both/],
    [{ flowControl: { key: "", parallelism: 1 } }, /flowControl.key must be a non-empty string/],
    [{ flowControl: { key: "k", parallelism: 0 } }, /flowControl.parallelism must be a whole number > 0/],
    [{ flowControl: { key: "k", rate: 5, period: "10ms" } }, /flowControl.period must be at least 1s/],
    [
      { schedules: [{ cron: "61 * * * *", input: { email: "a@b.co" } }] },
      /schedules\[0\].cron "61 \* \* \* \*" is not a valid cron expression: minute 61 is out of range 0-59/,
    ],
    [{ schedules: [{ cron: "* * * *", input: { email: "a@b.co" } }] }, /expected 5 fields/],
    [
      { schedules: [{ cron: "*/90 * * * *", input: { email: "a@b.co" } }] },
      /^defineJob\("job-1"\): schedules\[0\]\.cron "\*\/90 \* \* \* \*": minute step 90 is larger than the field's range 0-59, so "\*\/90" fires only at minute 0 of each hour; use "0 \* \* \* \*", or a step of at most 59$/,
    ],
    [
      {
        schedules: [
          { cron: "0 9 * * *", input: { email: "a@b.co" } },
          { cron: "0 10-20/30 * * *", input: { email: "a@b.co" } },
        ],
      },
      /schedules\[1\]\.cron "0 10-20\/30 \* \* \*": hour step 30 is larger than the range 10-20/,
    ],
    [
      { schedules: [{ cron: "CRON_TZ=UTC * * * * *", input: { email: "a@b.co" } }] },
      /put the time zone in `tz`/,
    ],
    [
      { schedules: [{ cron: "* * * * *", tz: "Mars/Olympus", input: { email: "a@b.co" } }] },
      /schedules\[0\].tz "Mars\/Olympus" is not an IANA time zone/,
    ],
    [
      { schedules: [{ cron: "* * * * *", input: { email: "nope" } }] },
      /schedules\[0\].input does not match the job's input schema:\n {2}- email: /,
    ],
    [{ schedules: [{ cron: "* * * * *" }] }, /schedules\[0\].input does not match/],
    [
      {
        schedules: [
          { cron: "* * * * *", id: "x", input: { email: "a@b.co" } },
          { cron: "0 * * * *", id: "x", input: { email: "a@b.co" } },
        ],
      },
      /two schedules with id "x"/,
    ],
  ])("rejects %j with a message naming the job and field", (override, message) => {
    const make = () => defineJob({ id: "job-1", input, run, ...(override as object) } as never);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });
});

describe("createJobstash", () => {
  it("rejects duplicate job ids and things that are not jobs", () => {
    const a = defineJob({ id: "a", input, run });
    expect(() => createJobstash({ app: "x", jobs: [a, a] })).toThrow(/two jobs have the id "a"/);
    expect(() => createJobstash({ app: "x", jobs: [{ id: "b" } as never] })).toThrow(
      /must come from defineJob/,
    );
    expect(() => createJobstash({ app: "my app", jobs: [a] })).toThrow(/app must be/);
  });
});
