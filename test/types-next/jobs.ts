// The README's examples as a Next.js app would hold them, with a type check wherever the README
// says what a value is. test/types-next.test.ts compiles this folder under the tsconfig that
// `next build` writes for a new app (`"strict": false`) and under the same with `"strict": true`;
// `npm run typecheck` compiles it against the sources too.
import { createJobstash, defineJob, type JobContext, type JobFailure, NonRetryableError } from "jobstash";
import { expectTypeOf } from "vitest";
import { z } from "zod";

// Quick start
export const sendWelcome = defineJob({
  id: "send-welcome",
  input: z.object({ userId: z.string(), email: z.email() }),
  retries: 3,
  timeout: "30s",
  flowControl: (input) => ({ key: `user:${input.userId}`, parallelism: 1 }),
  schedules: [{ cron: "0 9 * * 1", tz: "Europe/Paris", input: { userId: "all", email: "ops@acme.dev" } }],
  async run(input, ctx) {
    expectTypeOf(input).toEqualTypeOf<{ userId: string; email: string }>();
    expectTypeOf(ctx).toEqualTypeOf<JobContext>();
    if (input.email.endsWith("@bounce.test")) throw new NonRetryableError("address bounced");
    return { sent: true };
  },
  async onSuccess({ input, output, ctx }) {
    expectTypeOf(input).toEqualTypeOf<{ userId: string; email: string }>();
    expectTypeOf(output).toEqualTypeOf<{ sent: boolean }>();
    expectTypeOf(ctx).toEqualTypeOf<JobContext>();
    if (!output.sent) ctx.logger.warn(`not sent to ${input.email}`);
  },
  async onFailure({ input, error, dlqId, ctx }) {
    expectTypeOf(input).toEqualTypeOf<{ userId: string; email: string }>();
    expectTypeOf(error).toEqualTypeOf<JobFailure>();
    expectTypeOf(dlqId).toEqualTypeOf<string | undefined>();
    ctx.logger.error(`${error.status} ${error.message}`, dlqId);
  },
});

// Callbacks: an output schema, whose parsed type reaches onSuccess.
declare function exportDay(day: string): Promise<string>;
export const exportJob = defineJob({
  id: "export",
  input: z.object({ day: z.string() }),
  output: z.object({ url: z.string(), finishedAt: z.coerce.date() }),
  run: async (input) => ({ url: await exportDay(input.day), finishedAt: new Date() }),
  onSuccess({ output }) {
    expectTypeOf(output).toEqualTypeOf<{ url: string; finishedAt: Date }>();
  },
});

// Configuration: a job that triggers another with the delivery's bindings.
export const signup = defineJob({
  id: "signup",
  input: z.object({ userId: z.string(), email: z.string() }),
  async run(input, ctx) {
    const id: string = await jobs
      .withEnv(ctx.env)
      .trigger("send-welcome", { userId: input.userId, email: input.email });
    // @ts-expect-error send-welcome takes an email
    await jobs.withEnv(ctx.env).trigger("send-welcome", { userId: input.userId });
    return { id };
  },
  onSuccess({ output }) {
    expectTypeOf(output).toEqualTypeOf<{ id: string }>();
  },
});

export const jobs = createJobstash({ app: "acme", jobs: [sendWelcome, exportJob, signup] });

// Triggering: typed by job id, before any network call.
export async function triggerAll() {
  expectTypeOf(jobs.trigger<"send-welcome">)
    .parameter(1)
    .toEqualTypeOf<{ userId: string; email: string }>();
  expectTypeOf(jobs.trigger<"export">)
    .parameter(1)
    .toEqualTypeOf<{ day: string }>();
  expectTypeOf(jobs.url).parameter(0).toEqualTypeOf<"send-welcome" | "export" | "signup">();
  const messageId = await jobs.trigger("send-welcome", { userId: "u1", email: "a@b.co" }, { delay: "10s" });
  expectTypeOf(messageId).toEqualTypeOf<string>();

  const ids = await jobs.batch([
    { id: "send-welcome", input: { userId: "u1", email: "a@b.co" } },
    { id: "export", input: { day: "2026-01-01" }, options: { delay: "1m" } },
  ]);
  expectTypeOf(ids).toEqualTypeOf<string[]>();

  // @ts-expect-error unknown job id
  await jobs.trigger("send-welcom", { userId: "u1", email: "a@b.co" });
  // @ts-expect-error wrong input for the job
  await jobs.trigger("export", { day: 1 });
  // @ts-expect-error another job's input
  await jobs.trigger("export", { userId: "u1", email: "a@b.co" });
  // @ts-expect-error a batch item with the other job's input
  await jobs.batch([{ id: "export", input: { userId: "u1", email: "a@b.co" } }]);
}
