// Comparison for the bundle-size benchmark: the same four jobs as @upstash/workflow
// workflows on Cloudflare (one step each), validated with the same zod/mini schemas.
import { Client, WorkflowNonRetryableError } from "@upstash/workflow";
import { createWorkflow, serveMany } from "@upstash/workflow/cloudflare";
import * as z from "zod/mini";

const resizeImage = createWorkflow(async (context) => {
  const input = z.parse(
    z.object({ url: z.url(), width: z.number().check(z.int(), z.positive()) }),
    context.requestPayload,
  );
  return context.run("resize", () => ({ url: `${input.url}?w=${input.width}` }));
});
const dailyDigest = createWorkflow(async (context) => {
  const input = z.parse(z.object({ team: z.string() }), context.requestPayload);
  return context.run("digest", () => ({ team: input.team, sent: true }));
});
const chargeCard = createWorkflow(
  async (context) => {
    const input = z.parse(z.object({ orderId: z.string(), cents: z.number() }), context.requestPayload);
    return context.run("charge", () => {
      if (input.cents > 100_000) throw new Error("card declined");
      return { receipt: `rcpt_${input.orderId}` };
    });
  },
  {
    failureFunction: ({ failResponse }) => {
      console.log(`order not paid: ${failResponse}`);
    },
  },
);
const verifyAddress = createWorkflow(async (context) => {
  const input = z.parse(z.object({ email: z.string() }), context.requestPayload);
  return context.run("verify", () => {
    if (!input.email.includes("@"))
      throw new WorkflowNonRetryableError(`${input.email} is not an email address`);
    return { ok: true };
  });
});

export async function trigger(env: { QSTASH_TOKEN: string; BASE_URL: string }, id: string, body: unknown) {
  return new Client({ token: env.QSTASH_TOKEN }).trigger({ url: `${env.BASE_URL}/${id}`, body });
}

export default serveMany({
  "resize-image": resizeImage,
  "daily-digest": dailyDigest,
  "charge-card": chargeCard,
  "verify-address": verifyAddress,
});
