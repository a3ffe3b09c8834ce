// A worker whose job triggers another with the delivery's bindings (ctx.env). The e2e test
// runs it without nodejs_compat, where the bindings are the only place its settings live.
import { createJobstash, defineJob } from "jobstash";
import { serve } from "jobstash/workers";
import { z } from "zod";

const order = defineJob({
  id: "order",
  input: z.object({ orderId: z.string() }),
  async run(input, ctx) {
    await jobs.withEnv(ctx.env).trigger("receipt", input);
  },
});

const receipt = defineJob({
  id: "receipt",
  input: z.object({ orderId: z.string() }),
  run: (input, ctx) => ctx.logger.info(`receipt for ${input.orderId}`),
});

export const jobs = createJobstash({ app: "worker-trigger", jobs: [order, receipt] });

export default { fetch: serve(jobs) };
