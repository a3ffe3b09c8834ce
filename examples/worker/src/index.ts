import {
  createJobstash,
  defineJob,
  type EnvSource,
  type ExecutionContextLike,
  InvalidPayloadError,
  NonRetryableError,
} from "jobstash";
import { serve } from "jobstash/workers";
// zod/mini keeps the worker small; any Standard Schema library works.
import * as z from "zod/mini";

/** A job with a schema. */
const resizeImage = defineJob({
  id: "resize-image",
  input: z.object({ url: z.url(), width: z.number().check(z.int(), z.positive()) }),
  timeout: "20s",
  async run(input, ctx) {
    ctx.logger.info(`resizing ${input.url} to ${input.width}px`);
    return { url: `${input.url}?w=${input.width}` };
  },
});

/** A job on a cron schedule. */
const dailyDigest = defineJob({
  id: "daily-digest",
  input: z.object({ team: z.string() }),
  schedules: [{ cron: "0 8 * * 1-5", tz: "Europe/Berlin", input: { team: "core" } }],
  run: (input) => ({ team: input.team, sent: true }),
});

/** A job with hooks: onSuccess after the attempt that worked, onFailure when it gives up. */
const chargeCard = defineJob({
  id: "charge-card",
  input: z.object({ orderId: z.string(), cents: z.number() }),
  retries: 2,
  run(input) {
    if (input.cents > 100_000) throw new Error("card declined");
    return { receipt: `rcpt_${input.orderId}` };
  },
  onSuccess: ({ input, output, ctx }) => ctx.logger.info(`order ${input.orderId} paid: ${output.receipt}`),
  onFailure: ({ input, error, dlqId, ctx }) =>
    ctx.logger.warn(`order ${input.orderId} not paid (${error.message}); DLQ ${dlqId}`),
});

/** A job that fails for good: retrying cannot fix a malformed address. */
const verifyAddress = defineJob({
  id: "verify-address",
  input: z.object({ email: z.string() }),
  run(input) {
    if (!input.email.includes("@")) throw new NonRetryableError(`${input.email} is not an email address`);
    return { ok: true };
  },
});

export const jobs = createJobstash({
  app: "example-worker",
  jobs: [resizeImage, dailyDigest, chargeCard, verifyAddress],
});

const receive = serve(jobs);

export default {
  async fetch(request: Request, env: EnvSource, ctx: ExecutionContextLike) {
    if (request.method === "POST" && new URL(request.url).pathname === "/orders") {
      // A Worker's settings are bindings that come with each request (process.env holds them
      // only with nodejs_compat), so trigger with them.
      try {
        const messageId = await jobs.withEnv(env).trigger("charge-card", await request.json());
        return Response.json({ messageId }, { status: 202 });
      } catch (error) {
        // trigger validates before it publishes: a bad input is the caller's mistake, not a 500.
        if (error instanceof InvalidPayloadError) {
          return Response.json({ error: error.message, issues: error.issues }, { status: 400 });
        }
        throw error;
      }
    }
    return receive(request, env, ctx);
  },
};
