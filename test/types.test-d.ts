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
  type Jsonify,
  type Logger,
  type Reply,
  type ReplyHandlerOptions,
} from "jobstash";
import { createTestJobstash, type RunRecord, type StepSummary } from "jobstash/testing";
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
  // Coercing, so the schema also accepts the JSON it produced when the success callback parses it.
  output: z.object({ rows: z.coerce.string() }),
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

  it("types onSuccess's output as run's return after the JSON trip through QStash", () => {
    class Money {
      constructor(readonly cents: number) {}
      format() {
        return `${this.cents / 100} EUR`;
      }
    }
    defineJob({
      id: "no-output-schema",
      input: z.object({}),
      async run() {
        return {
          at: new Date(),
          nested: { dates: [new Date()], maybe: undefined as Date | undefined },
          note: "" as string | undefined,
          optional: undefined as { n: number }[] | undefined,
          money: new Money(100),
          log: () => {},
        };
      },
      onSuccess({ output }) {
        expectTypeOf(output).toEqualTypeOf<{
          at: string;
          nested: { dates: string[]; maybe?: string };
          note?: string;
          optional?: { n: number }[];
          money: { cents: number };
        }>();
      },
    });
    defineJob({
      id: "returns-a-date",
      input: z.object({}),
      run: async () => new Date(),
      onSuccess({ output }) {
        expectTypeOf(output).toEqualTypeOf<string>();
      },
    });
    defineJob({
      id: "returns-nothing",
      input: z.object({}),
      run() {},
      onSuccess({ output }) {
        // An empty response body: the callback has no JSON to parse.
        expectTypeOf(output).toEqualTypeOf<undefined>();
      },
    });
    defineJob({
      id: "returns-sometimes",
      input: z.object({ n: z.number() }),
      run: ({ n }) => (n > 0 ? { at: new Date() } : undefined),
      onSuccess({ output }) {
        expectTypeOf(output).toEqualTypeOf<{ at: string } | undefined>();
      },
    });
  });

  it("types onSuccess's output as the output schema's, parsed from the JSON", () => {
    defineJob({
      id: "with-output-schema",
      input: z.object({}),
      output: z.object({ at: z.coerce.date(), n: z.number() }),
      run: () => ({ at: new Date(), n: 1 }),
      onSuccess({ output }) {
        // The callback parses the JSON with the schema: the coerced date is a Date again.
        expectTypeOf(output).toEqualTypeOf<{ at: Date; n: number }>();
      },
    });
    defineJob({
      id: "with-output-schema-bad-run",
      input: z.object({}),
      output: z.object({ at: z.coerce.date(), n: z.number() }),
      // @ts-expect-error run must return the schema's input type: n is a number
      run: () => ({ at: new Date(), n: "1" }),
    });
  });

  it("Jsonify follows JSON.stringify", () => {
    expectTypeOf<Jsonify<Date>>().toEqualTypeOf<string>();
    expectTypeOf<Jsonify<{ toJSON(): { at: Date } }>>().toEqualTypeOf<{ at: string }>();
    expectTypeOf<Jsonify<string | number | boolean | null>>().toEqualTypeOf<
      string | number | boolean | null
    >();
    expectTypeOf<Jsonify<"a" | 1>>().toEqualTypeOf<"a" | 1>();
    expectTypeOf<Jsonify<bigint>>().toBeNever();
    expectTypeOf<Jsonify<{ n: bigint }>>().toEqualTypeOf<{ n: never }>();
    expectTypeOf<Jsonify<() => void>>().toBeNever();
    expectTypeOf<Jsonify<undefined>>().toBeNever();
    // Properties: dropped when never JSON, optional when only sometimes.
    expectTypeOf<
      Jsonify<{ a: string; b: undefined; c: () => void; d: number | undefined; e?: Date; f: symbol }>
    >().toEqualTypeOf<{ a: string; d?: number; e?: string }>();
    expectTypeOf<Jsonify<{ [Symbol.iterator]: number; ok: true }>>().toEqualTypeOf<{ ok: true }>();
    // Arrays and tuples: a dropped item is null; readonly goes, the parsed copy is fresh.
    expectTypeOf<Jsonify<(Date | undefined)[]>>().toEqualTypeOf<(string | null)[]>();
    expectTypeOf<Jsonify<readonly [Date, undefined, () => void]>>().toEqualTypeOf<[string, null, null]>();
    expectTypeOf<Jsonify<{ readonly list: readonly { readonly at: Date }[] }>>().toEqualTypeOf<{
      list: { at: string }[];
    }>();
    expectTypeOf<Jsonify<Record<string, Date>>>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<Jsonify<Map<string, number>>>().toEqualTypeOf<Record<string, never>>();
    expectTypeOf<Jsonify<Set<string>>>().toEqualTypeOf<Record<string, never>>();
    expectTypeOf<Jsonify<Uint8Array>>().toEqualTypeOf<Record<string, number>>();
    expectTypeOf<Jsonify<unknown>>().toBeUnknown();
    expectTypeOf<Jsonify<any>>().toBeAny();
    // Recursive types stay recursive.
    interface Tree {
      at: Date;
      children: Tree[];
    }
    expectTypeOf<Jsonify<Tree>["children"][number]["children"][number]["at"]>().toEqualTypeOf<string>();
  });

  it("takes any Web Request as a DeliveryRequest and answers with a plain Reply", () => {
    expectTypeOf<Request>().toExtend<DeliveryRequest>();
    const reply = createReplyHandler(jobs);
    expectTypeOf(reply).parameter(0).toEqualTypeOf<DeliveryRequest>();
    expectTypeOf(reply).returns.resolves.toEqualTypeOf<Reply>();
    expectTypeOf<Reply["body"]>().toEqualTypeOf<string | null>();
    // A logger of its own, in place of the registry's.
    expectTypeOf(createReplyHandler).parameter(1).toEqualTypeOf<ReplyHandlerOptions | undefined>();
    expectTypeOf<ReplyHandlerOptions["logger"]>().toEqualTypeOf<Logger | undefined>();
  });

  it("types the test harness's trigger and batch as the registry's, and its records by job id", () => {
    const t = createTestJobstash(jobs);
    expectTypeOf(t.trigger).toEqualTypeOf(jobs.trigger);
    expectTypeOf(t.batch).toEqualTypeOf(jobs.batch);
    expectTypeOf(t.trigger<"send-welcome">)
      .parameter(1)
      .toEqualTypeOf<{ userId: string; email: string; count: string }>();
    // Records hold the input as it was delivered: the JSON of what was triggered.
    expectTypeOf(t.runs("report")).toEqualTypeOf<RunRecord<{ day: string }>[]>();
    expectTypeOf(t.dlq("send-welcome")[0]!.input).toEqualTypeOf<{
      userId: string;
      email: string;
      count: string;
    }>();
    expectTypeOf(t.runs()[0]!.input).toEqualTypeOf<
      { userId: string; email: string; count: string } | { day: string }
    >();
    expectTypeOf(t.drain()).resolves.toEqualTypeOf<StepSummary>();
    expectTypeOf(t.advance).toBeCallableWith("10m");
    expectTypeOf(t.advance).toBeCallableWith(30);
    expectTypeOf(t.now()).toEqualTypeOf<Date>();

    // @ts-expect-error unknown job id
    t.trigger("nope", {});
    // @ts-expect-error wrong input for the job
    t.trigger("report", { day: 1 });
    // @ts-expect-error unknown job id
    t.runs("nope");
    // @ts-expect-error unknown job id
    t.dlq("nope");
    // @ts-expect-error the harness takes a registry, not a job
    createTestJobstash(report);
  });
});
