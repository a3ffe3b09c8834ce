// The jobs every example serves: the same definitions mount in Hono, Express and Next.js.
import { createJobstash, defineJob, NonRetryableError } from "jobstash";
import { z } from "zod";

/** A job with a schema and both hooks; an address at fail.test keeps failing until retries run out. */
export const sendWelcome = defineJob({
  id: "send-welcome",
  input: z.object({ email: z.email(), name: z.string().min(1) }),
  retries: 2,
  async run(input, ctx) {
    ctx.logger.info(`attempt ${ctx.attempt}/${ctx.maxRetries + 1}: welcoming ${input.name} <${input.email}>`);
    if (input.email.endsWith("@fail.test")) throw new Error(`mail server refused ${input.email}`);
    return { delivered: true, to: input.email };
  },
  onSuccess({ input, output, ctx }) {
    ctx.logger.info(`onSuccess: welcome mail for ${input.name} delivered to ${output.to}`);
  },
  onFailure({ input, error, dlqId, ctx }) {
    ctx.logger.warn(
      `onFailure: gave up on ${input.email} after ${ctx.retried} retries (${error.message}); DLQ ${dlqId}`,
    );
  },
});

/** A job that fails for good: no retry can make a malformed address valid. */
export const verifyAddress = defineJob({
  id: "verify-address",
  input: z.object({ email: z.string() }),
  run(input, ctx) {
    if (!input.email.includes("@")) throw new NonRetryableError(`"${input.email}" is not an email address`);
    ctx.logger.info(`${input.email} looks deliverable`);
    return { ok: true };
  },
});

/** A job on a cron schedule: every minute, so the demo shows a scheduled delivery soon. */
export const heartbeat = defineJob({
  id: "heartbeat",
  input: z.object({ source: z.string() }),
  schedules: [{ id: "every-minute", cron: "* * * * *", input: { source: "cron" } }],
  run(input, ctx) {
    ctx.logger.info(`beat from ${input.source} (schedule ${ctx.scheduleId ?? "none"})`);
    return { at: new Date().toISOString() };
  },
});

export const jobs = createJobstash({
  app: "jobstash-examples",
  jobs: [sendWelcome, verifyAddress, heartbeat],
});
