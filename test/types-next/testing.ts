// The test harness's types under both tsconfigs (see jobs.ts): `t.trigger` and `t.batch` are
// the registry's own, and records are typed by job id, with `"strict": false` as with `true`.
import { createJobstash, defineJob } from "jobstash";
import { createTestJobstash, type DlqRecord, type RunRecord } from "jobstash/testing";
import { expectTypeOf } from "vitest";
import { z } from "zod";

const sendWelcome = defineJob({
  id: "send-welcome",
  input: z.object({ userId: z.string(), email: z.email() }),
  run: async () => ({ sent: true }),
});
const report = defineJob({ id: "report", input: z.object({ day: z.string() }), run: () => undefined });
export const jobs = createJobstash({ app: "acme", jobs: [sendWelcome, report] });

export async function harnessTypes() {
  const t = createTestJobstash(jobs, { now: "2026-03-29T00:30:00Z" });
  expectTypeOf(t.trigger).toEqualTypeOf(jobs.trigger);
  expectTypeOf(t.batch).toEqualTypeOf(jobs.batch);
  const id: string = await t.trigger("send-welcome", { userId: "u1", email: "a@b.co" }, { delay: "10m" });
  // @ts-expect-error send-welcome takes an email
  await t.trigger("send-welcome", { userId: "u1" });
  await t.batch([
    { id: "report", input: { day: "mon" } },
    { id: "send-welcome", input: { userId: "u2", email: "c@d.co" } },
  ]);
  await t.advance("10m");
  const summary = await t.drain({ horizon: "7d" });
  expectTypeOf(summary.runs).toEqualTypeOf<RunRecord[]>();
  expectTypeOf(t.runs("send-welcome")).toEqualTypeOf<RunRecord<{ userId: string; email: string }>[]>();
  expectTypeOf(t.dlq("report")).toEqualTypeOf<DlqRecord<{ day: string }>[]>();
  // @ts-expect-error unknown job id
  t.runs("nope");
  expectTypeOf(t.message(id).attempts[0]!.status).toEqualTypeOf<number>();
  expectTypeOf(t.now()).toEqualTypeOf<Date>();
  await t.close();
}
