import {
  type BatchItem,
  createHandler,
  createJobstash,
  createReplyHandler,
  type DeliveryRequest,
  defineJob,
  type ExecutionContextLike,
  type JobContext,
  type JobFailure,
  type Reply,
} from "jobstash";
import { serve as serveWorker } from "jobstash/workers";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";

const welcome = defineJob({
  id: "send-welcome",
  input: z.object({ userId: z.string(), email: z.string().email(), count: z.string().transform(Number) }),
  flowControl: (input) => {
    expectTypeOf(input).toEqualTypeOf<{ userId: string; email: string; count: number }>();
    return { key: input.userId, parallelism: 1 };
  },
  schedules: [{ cron: "0 9 * * 1", input: { userId: "all", email: "ops@acme.dev", count: "1" } }],
  async run(input, ctx) {
    expectTypeOf(input).toEqualTypeOf<{ userId: string; email: string; count: number }>();
    expectTypeOf(ctx).toEqualTypeOf<JobContext>();
    return { sent: true as boolean, at: 1 };
  },
  onSuccess({ input, output }) {
    expectTypeOf(input.count).toBeNumber();
    expectTypeOf(output).toEqualTypeOf<{ sent: boolean; at: number }>();
  },
  onFailure({ input, error, dlqId }) {
    expectTypeOf(input.email).toBeString();
    expectTypeOf(error).toEqualTypeOf<JobFailure>();
    expectTypeOf(dlqId).toEqualTypeOf<string | undefined>();
  },
});

const report = defineJob({
  id: "report",
  input: z.object({ day: z.string() }),
  output: z.object({ rows: z.number().transform(String) }),
  run: () => ({ rows: 3 }),
  onSuccess({ output }) {
    // The output schema's parsed type, not run's raw return.
    expectTypeOf(output).toEqualTypeOf<{ rows: string }>();
  },
});

const jobs = createJobstash({ app: "acme", jobs: [welcome, report] });

// A job that triggers another of its own registry with the delivery's bindings, as on Workers.
const order = defineJob({
  id: "order",
  input: z.object({ orderId: z.string() }),
  async run(input, ctx) {
    await shop.withEnv(ctx.env).trigger("receipt", { orderId: input.orderId });
    // @ts-expect-error the receipt job takes an orderId
    await shop.withEnv(ctx.env).trigger("receipt", { day: "mon" });
    return { ok: true };
  },
});
const receipt = defineJob({ id: "receipt", input: z.object({ orderId: z.string() }), run: () => undefined });
const shop = createJobstash({ app: "shop", jobs: [order, receipt] });

describe("types", () => {
  it("infers job ids as literals", () => {
    expectTypeOf(welcome.id).toEqualTypeOf<"send-welcome">();
  });

  it("types trigger by job id", () => {
    expectTypeOf(jobs.trigger<"report">)
      .parameter(1)
      .toEqualTypeOf<{ day: string }>();
    // The caller passes the schema's input type (before transforms).
    expectTypeOf(jobs.trigger<"send-welcome">)
      .parameter(1)
      .toEqualTypeOf<{ userId: string; email: string; count: string }>();
    expectTypeOf(jobs.trigger("report", { day: "mon" })).resolves.toBeString();

    // @ts-expect-error unknown job id
    jobs.trigger("nope", {});
    // @ts-expect-error wrong input for the job
    jobs.trigger("report", { day: 1 });
    // @ts-expect-error another job's input
    jobs.trigger("report", { userId: "u", email: "e", count: "1" });
    // @ts-expect-error missing input
    jobs.trigger("report");
  });

  it("types batch items as a union discriminated by id", () => {
    expectTypeOf<BatchItem<[typeof welcome, typeof report]>>().toEqualTypeOf<
      | {
          id: "send-welcome";
          input: { userId: string; email: string; count: string };
          options?: import("jobstash").TriggerOptions;
        }
      | { id: "report"; input: { day: string }; options?: import("jobstash").TriggerOptions }
    >();
    jobs.batch([
      { id: "report", input: { day: "mon" } },
      { id: "send-welcome", input: { userId: "u", email: "e", count: "1" } },
    ]);
    // @ts-expect-error input of the other job
    jobs.batch([{ id: "report", input: { userId: "u" } }]);
  });

  it("types withEnv's trigger, batch and url by job id, like the registry's", () => {
    // What `wrangler types` generates: an interface, with bindings that are not strings.
    interface Env {
      QSTASH_TOKEN: string;
      BUCKET: { get(key: string): Promise<unknown> };
    }
    const bound = jobs.withEnv({} as Env);
    expectTypeOf(bound.trigger<"report">)
      .parameter(1)
      .toEqualTypeOf<{ day: string }>();
    expectTypeOf(bound.trigger<"send-welcome">)
      .parameter(1)
      .toEqualTypeOf<{ userId: string; email: string; count: string }>();
    expectTypeOf(bound.trigger("report", { day: "mon" })).resolves.toBeString();
    expectTypeOf(bound.batch).toEqualTypeOf(jobs.batch);
    expectTypeOf(bound.url).parameter(0).toEqualTypeOf<"send-welcome" | "report">();
    // Inside a job (see `order` above), and on Node.
    expectTypeOf<JobContext["env"]>().toExtend<Parameters<typeof jobs.withEnv>[0]>();
    expectTypeOf(process.env).toExtend<Parameters<typeof jobs.withEnv>[0]>();

    // @ts-expect-error unknown job id
    bound.trigger("nope", {});
    // @ts-expect-error wrong input for the job
    bound.trigger("report", { day: 1 });
    // @ts-expect-error another job's input
    bound.batch([{ id: "report", input: { userId: "u" } }]);
    // @ts-expect-error unknown job id
    bound.url("nope");
    // @ts-expect-error bindings are an object, not a string
    jobs.withEnv("QSTASH_TOKEN=t");
  });

  it("takes a Workers Env interface wherever bindings go", () => {
    interface Env {
      QSTASH_TOKEN: string;
      BUCKET: { get(key: string): Promise<unknown> };
    }
    // The shape of Cloudflare's ExportedHandler<Env>["fetch"]; parameters are checked contravariantly.
    type WorkersFetch = (request: Request, env: Env, ctx: ExecutionContextLike) => Promise<Response>;
    expectTypeOf(serveWorker(jobs)).toExtend<WorkersFetch>();
    expectTypeOf(createHandler(jobs)).toExtend<WorkersFetch>();
    expectTypeOf(jobs.url).toBeCallableWith("report", {} as Env);
    // @ts-expect-error bindings are an object, not a string
    createHandler(jobs)(new Request("http://x"), "QSTASH_TOKEN=t");
  });

  it("checks run's return against the output schema and schedules against the input", () => {
    defineJob({
      id: "x",
      input: z.object({ n: z.number() }),
      output: z.object({ ok: z.boolean() }),
      // @ts-expect-error run must return the output schema's input type
      run: () => ({ ok: "yes" }),
    });
    defineJob({
      id: "y",
      input: z.object({ n: z.number() }),
      // @ts-expect-error schedule input must match the input schema
      schedules: [{ cron: "* * * * *", input: { n: "1" } }],
      run: () => undefined,
    });
  });

  it("takes any Web Request as a DeliveryRequest and answers with a plain Reply", () => {
    expectTypeOf<Request>().toExtend<DeliveryRequest>();
    const reply = createReplyHandler(jobs);
    expectTypeOf(reply).parameter(0).toEqualTypeOf<DeliveryRequest>();
    expectTypeOf(reply).returns.resolves.toEqualTypeOf<Reply>();
    expectTypeOf<Reply["body"]>().toEqualTypeOf<string | null>();
  });
});
