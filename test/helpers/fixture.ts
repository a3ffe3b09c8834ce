import { createHandler, createJobstash, defineJob, NonRetryableError, RetryAfterError } from "jobstash";
import { z } from "zod";
import { BASE, KEYS } from "./keys";

export { BASE };

/** A Proxy on which every operation throws: its handler is itself a Proxy whose traps all throw. */
const trapsThatThrow = new Proxy(
  {},
  {
    get() {
      throw new Error("proxy trap refuses");
    },
  },
);

/**
 * Values a job can throw that `String()`, `.message` and `.name` cannot describe without
 * throwing themselves. The receiver must still answer its usual JSON 500.
 */
export const UNPRINTABLE = {
  "null-prototype": () => Object.create(null),
  "throwing-toString": () => ({
    toString() {
      throw new Error("toString refuses");
    },
  }),
  "throwing-message": () =>
    Object.defineProperty(new Error(), "message", {
      get() {
        throw new Error("message refuses");
      },
    }),
  "throwing-name": () =>
    Object.defineProperty(new TypeError("name unreadable"), "name", {
      get() {
        throw new Error("name refuses");
      },
    }),
  "throwing-proxy": () => new Proxy({}, trapsThatThrow),
  "throwing-error-proxy": () => new Proxy(new Error("inside a proxy"), trapsThatThrow),
};
export type Unprintable = keyof typeof UNPRINTABLE;
/** A stack frame or a source path: what a reply must never show. */
export const STACK_OR_PATH = /\n\s+at |[\\/][\w.-]+\.(?:ts|js|mjs|cjs)\b|file:/;
const unprintableKinds = Object.keys(UNPRINTABLE) as [Unprintable, ...Unprintable[]];

/** Collects what hooks and jobs saw, per fixture. */
export function createFixture(options: { fromEnv?: boolean; maxBodySize?: number } = {}) {
  const seen = {
    runs: [] as { input: unknown; ctx: Record<string, unknown> }[],
    successes: [] as { input: unknown; output: unknown; messageId: string }[],
    failures: [] as { input: unknown; error: unknown; dlqId: string | undefined }[],
    aborted: [] as unknown[],
  };
  const logs: string[] = [];
  const logger = {
    debug: (m: string) => logs.push(`debug ${m}`),
    info: (m: string) => logs.push(`info ${m}`),
    warn: (m: string) => logs.push(`warn ${m}`),
    error: (m: string) => logs.push(`error ${m}`),
  };

  const greet = defineJob({
    id: "greet",
    input: z.object({ name: z.string().min(1), times: z.coerce.number().int().default(1) }),
    output: z.object({ greeting: z.string() }),
    async run(input, ctx) {
      seen.runs.push({
        input,
        ctx: {
          messageId: ctx.messageId,
          attempt: ctx.attempt,
          retried: ctx.retried,
          maxRetries: ctx.maxRetries,
          scheduleId: ctx.scheduleId,
          label: ctx.label,
        },
      });
      return { greeting: `hello ${input.name}`.repeat(input.times) };
    },
    onSuccess({ input, output, ctx }) {
      seen.successes.push({ input, output, messageId: ctx.messageId });
    },
    onFailure({ input, error, dlqId }) {
      seen.failures.push({ input, error, dlqId });
    },
  });

  const fail = defineJob({
    id: "fail",
    input: z.object({
      mode: z.enum([
        "nonretryable",
        "retry-seconds",
        "retry-duration",
        "retry-date",
        "retry-long",
        "throw",
        "string",
      ]),
    }),
    run(input): void {
      switch (input.mode) {
        case "nonretryable":
          throw new NonRetryableError("the address bounced");
        case "retry-seconds":
          throw new RetryAfterError("slow down", 30);
        case "retry-duration":
          throw new RetryAfterError("slow down", "2m");
        case "retry-date":
          throw new RetryAfterError("slow down", new Date(Date.now() + 90_000));
        case "retry-long":
          throw new RetryAfterError("slow down", "3d");
        case "string":
          throw "a string";
        default:
          throw new TypeError("db connection refused");
      }
    },
  });

  const slow = defineJob({
    id: "slow",
    input: z.object({}),
    timeout: "50ms" as const,
    run(_input, ctx) {
      return new Promise<void>((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          seen.aborted.push(ctx.signal.reason);
          reject(ctx.signal.reason);
        });
      });
    },
  });

  const badOutput = defineJob({
    id: "bad-output",
    input: z.object({}),
    output: z.object({ count: z.number() }),
    // @ts-expect-error the output schema wants a number; the handler must catch it at run time too
    run: () => ({ count: "three" }),
  });

  const oddThrow = defineJob({
    id: "odd-throw",
    input: z.object({ value: z.enum(unprintableKinds) }),
    run(input): void {
      throw UNPRINTABLE[input.value]();
    },
    onSuccess({ input }) {
      throw UNPRINTABLE[input.value]();
    },
    onFailure({ input }) {
      throw UNPRINTABLE[input.value]();
    },
  });

  // Ignores ctx.signal and never settles, nor do its hooks: only the receiver's timer can answer.
  const never = () => new Promise<never>(() => {});
  const stuck = defineJob({
    id: "stuck",
    input: z.object({}),
    timeout: "1s",
    run: never,
    onSuccess: never,
    onFailure: never,
  });

  const noHooks = defineJob({ id: "no-hooks", input: z.undefined(), run: () => undefined });

  const jobs = createJobstash({
    app: "test-app",
    jobs: [greet, fail, slow, badOutput, noHooks, oddThrow, stuck],
    // fromEnv: everything comes from the request's bindings, as on Workers.
    ...(options.fromEnv ? {} : { baseUrl: BASE, signingKeys: KEYS, env: {} }),
    ...(options.maxBodySize === undefined ? {} : { maxBodySize: options.maxBodySize }),
    logger,
  });
  return { jobs, handler: createHandler(jobs), seen, logs, greet };
}
