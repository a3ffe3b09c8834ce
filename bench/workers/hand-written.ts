// Baseline for the bundle-size benchmark: the example worker's four jobs received, verified,
// validated, run and triggered by hand with @upstash/qstash's Receiver and Client, as a
// careful user would write it without jobstash. Same schemas (zod/mini), same behaviour.
import { Client, Receiver } from "@upstash/qstash";
import * as z from "zod/mini";

interface Env {
  QSTASH_TOKEN: string;
  QSTASH_URL?: string;
  QSTASH_CURRENT_SIGNING_KEY: string;
  QSTASH_NEXT_SIGNING_KEY: string;
  JOBSTASH_BASE_URL: string;
}

class NonRetryable extends Error {}

const jobs: Record<
  string,
  { schema: z.ZodMiniType; run(input: any): unknown; hooks?: boolean; retries?: number }
> = {
  "resize-image": {
    schema: z.object({ url: z.url(), width: z.number().check(z.int(), z.positive()) }),
    run: (input) => ({ url: `${input.url}?w=${input.width}` }),
  },
  "daily-digest": {
    schema: z.object({ team: z.string() }),
    run: (input) => ({ team: input.team, sent: true }),
  },
  "charge-card": {
    schema: z.object({ orderId: z.string(), cents: z.number() }),
    retries: 2,
    hooks: true,
    run(input) {
      if (input.cents > 100_000) throw new Error("card declined");
      return { receipt: `rcpt_${input.orderId}` };
    },
  },
  "verify-address": {
    schema: z.object({ email: z.string() }),
    run(input) {
      if (!input.email.includes("@")) throw new NonRetryable(`${input.email} is not an email address`);
      return { ok: true };
    },
  },
};

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

class BadInput extends Error {
  constructor(readonly issues: z.core.$ZodIssue[]) {
    super("the input does not match the schema");
  }
}

export async function trigger(env: Env, id: string, input: unknown): Promise<string> {
  const job = jobs[id];
  if (!job) throw new Error(`unknown job ${id}`);
  const parsed = z.safeParse(job.schema, input);
  if (!parsed.success) throw new BadInput(parsed.error.issues);
  const url = `${env.JOBSTASH_BASE_URL}/${id}`;
  const client = new Client({ token: env.QSTASH_TOKEN, baseUrl: env.QSTASH_URL });
  const { messageId } = await client.publishJSON({
    url,
    body: input,
    retries: job.retries ?? 3,
    label: id,
    ...(job.hooks && { callback: `${url}?callback=success`, failureCallback: `${url}?callback=failure` }),
  });
  return messageId;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== "POST") return json({ error: "method not allowed" }, 405);
    const url = new URL(request.url);
    // The example's route that triggers a job with the request's bindings.
    if (url.pathname === "/orders") {
      try {
        return json({ messageId: await trigger(env, "charge-card", await request.json()) }, 202);
      } catch (error) {
        if (error instanceof BadInput) return json({ error: error.message, issues: error.issues }, 400);
        throw error;
      }
    }
    const id = url.pathname.split("/").pop() ?? "";
    const body = await request.text();
    const receiver = new Receiver({
      currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY,
    });
    const callback = url.searchParams.get("callback");
    try {
      await receiver.verify({
        signature: request.headers.get("upstash-signature") ?? "",
        body,
        url: `${env.JOBSTASH_BASE_URL}/${id}${callback ? `?callback=${callback}` : ""}`,
      });
    } catch (error) {
      return json({ error: (error as Error).message }, 401);
    }
    const job = jobs[id];
    if (!job) return json({ error: `unknown job ${id}` }, 489, { "Upstash-NonRetryable-Error": "true" });
    if (callback) {
      const payload = JSON.parse(body) as { status: number; sourceBody: string; dlqId?: string };
      const input = JSON.parse(atob(payload.sourceBody));
      if (callback === "success" && payload.status < 300) console.log(`order ${input.orderId} paid`);
      if (callback === "failure") console.log(`order ${input.orderId} not paid; DLQ ${payload.dlqId}`);
      return json({ ok: true });
    }
    const parsed = z.safeParse(job.schema, JSON.parse(body));
    if (!parsed.success) {
      return json({ error: z.prettifyError(parsed.error) }, 489, { "Upstash-NonRetryable-Error": "true" });
    }
    try {
      return json(await job.run(parsed.data));
    } catch (error) {
      if (error instanceof NonRetryable) {
        return json({ error: error.message }, 489, { "Upstash-NonRetryable-Error": "true" });
      }
      return json({ error: (error as Error).message }, 500);
    }
  },
};
