import { type Config, type ConfigOptions, type EnvSource, resolveConfig } from "./config.js";
import { ConfigError, failIn, InvalidPayloadError } from "./errors.js";
import { checkDeliveryOptions, NAME_RULE } from "./job/define.js";
import {
  type DeclaredResources,
  declaredResources,
  type FlowControlDeclaration,
  type QueueDeclaration,
} from "./job/resources.js";
import type { AnyJob, DeliveryOptions, FlowControl, JobInput, Logger } from "./job/types.js";
import { buildRequest } from "./message.js";
import { jobUrl, type PublishMessage } from "./protocol.js";
import { publish, publishBatch } from "./qstash.js";

/** QStash's batch endpoint takes many messages per call; chunks keep each request small. */
const BATCH_CHUNK = 100;

/** Options for `createJobstash`. */
export interface JobstashOptions<TJobs extends readonly AnyJob[]> extends ConfigOptions {
  /** Name of the application; sync uses it to tell the schedules it owns from others. */
  app: string;
  /** Every job this app defines and receives. */
  jobs: TJobs;
  /** Queues with their settings (`defineQueue`); `jobstash sync` creates them. @default [] */
  queues?: readonly QueueDeclaration[];
  /** Flow-control keys with pinned limits (`defineFlowControl`); `jobstash sync` pins them. @default [] */
  flowControls?: readonly FlowControlDeclaration[];
  /** Seconds of clock skew tolerated when checking a signature's `exp` and `nbf`. @default 5 */
  clockTolerance?: number;
  /** Largest request body the receiver reads, in bytes. @default 10 MiB */
  maxBodySize?: number;
  /** Where the receiver and jobs log. @default console */
  logger?: Logger;
}

/** Per-call options for `trigger` and `batch`; each overrides the job's own setting. */
export interface TriggerOptions extends DeliveryOptions {
  /** Deliver no earlier than this time (wins over `delay`). */
  notBefore?: Date;
  /** Messages with the same id within QStash's deduplication window are dropped. */
  deduplicationId?: string;
  /** Deduplicate on the body and headers. */
  contentBasedDeduplication?: boolean;
  /** Flow control for this message instead of the job's. */
  flowControl?: FlowControl;
  /** Extra headers delivered with the message. */
  headers?: Record<string, string>;
}

type JobById<TJobs extends readonly AnyJob[], TId> = Extract<TJobs[number], { id: TId }>;

/** One item of `batch`: a job id, its input, and per-call options. */
export type BatchItem<TJobs extends readonly AnyJob[]> = {
  [TId in TJobs[number]["id"]]: { id: TId; input: JobInput<JobById<TJobs, TId>>; options?: TriggerOptions };
}[TJobs[number]["id"]];

/** What `jobs.withEnv(env)` returns: the registry's trigger side, reading settings from `env`. */
export interface JobstashWithEnv<TJobs extends readonly AnyJob[] = readonly AnyJob[]> {
  /**
   * Validate `input` against the job's schema and publish it to QStash. Resolves to the
   * QStash message id. A bad input throws `InvalidPayloadError` before any network call.
   */
  trigger<TId extends TJobs[number]["id"]>(
    id: TId,
    input: JobInput<JobById<TJobs, TId>>,
    options?: TriggerOptions,
  ): Promise<string>;
  /** Trigger many jobs through QStash's batch API; resolves to the message ids in order. */
  batch(items: readonly BatchItem<TJobs>[]): Promise<string[]>;
  /** The URL QStash delivers a job to (`<baseUrl>/<jobId>`). */
  url(id: TJobs[number]["id"]): string;
}

/** The registry `createJobstash` returns: trigger jobs here, serve them with an adapter. */
export interface Jobstash<TJobs extends readonly AnyJob[] = readonly AnyJob[]>
  extends JobstashWithEnv<TJobs> {
  readonly app: string;
  /** The jobs by id. */
  readonly jobs: ReadonlyMap<string, AnyJob>;
  /** The URL QStash delivers a job to (`<baseUrl>/<jobId>`); `env` as in `withEnv(env).url(id)`. */
  url(id: TJobs[number]["id"], env?: EnvSource): string;
  /**
   * `trigger`, `batch` and `url` with `env` as the request's bindings: on Workers the `env` of
   * `fetch(request, env)`, Hono's `c.env`, or `ctx.env` inside a job (`process.env` holds
   * them only with `nodejs_compat`). Settings resolve in the receiver's order: the
   * `createJobstash` options, then `env`, then the `env` option, then `process.env`.
   * Cheap to call per request: it shares the registry's jobs.
   *
   * @example
   * // a Worker's fetch handler
   * const messageId = await jobs.withEnv(env).trigger("send-welcome", { email: "a@b.co" });
   * // inside a job, where ctx.env holds the request's bindings
   * await jobs.withEnv(ctx.env).trigger("send-receipt", { orderId: input.orderId });
   */
  withEnv(env: EnvSource): JobstashWithEnv<TJobs>;
}

/** Any registry, whatever its jobs (the type is invariant in them). */
export type AnyJobstash = Jobstash<any>;

/**
 * What `trigger` and `batch` publish to instead of QStash while it is set: `jobstash/testing`
 * sets one on the registry under test while a harness is open, so jobs that trigger jobs are
 * captured in process. Not part of the public API.
 */
export interface Publisher {
  /** Where settings (the base URL) are read when a trigger names no bindings of its own. */
  env(): EnvSource;
  /** Accepts the messages (already validated and built) in order; resolves to their ids. */
  publish(messages: readonly PublishMessage[]): Promise<string[]>;
}

/** Internals the handler, sync and the test harness read; not part of the public API. */
export interface JobstashInternals {
  options: JobstashOptions<readonly AnyJob[]>;
  config(bindings?: EnvSource): Config;
  /** Declared and implied queues, and static flow-control keys (checked: one key, one config). */
  resources: DeclaredResources;
  /** Set while a test harness is open on this registry (see {@link Publisher}). */
  publisher?: Publisher;
}

/**
 * The registry's brand. A global symbol, so a registry made by another copy of jobstash (its
 * ESM and CJS builds both loaded) is known too.
 */
const INTERNALS = Symbol.for("jobstash.internals");

/** Whether `value` is a registry `createJobstash` returned. */
export function isJobstash(value: unknown): value is AnyJobstash {
  return (
    typeof value === "object" &&
    value !== null &&
    INTERNALS in value &&
    typeof (value as { app?: unknown }).app === "string"
  );
}

/** @internal */
export function internals(jobs: AnyJobstash): JobstashInternals {
  const found = (jobs as unknown as Record<symbol, JobstashInternals | undefined>)?.[INTERNALS];
  if (!found) throw new ConfigError("expected the object returned by createJobstash()");
  return found;
}

/**
 * Create the registry of an app's jobs. Nothing is read from the environment here: the base
 * URL, token and signing keys are resolved on each call and request.
 *
 * @example
 * export const jobs = createJobstash({ app: "acme", jobs: [sendWelcome, nightlyReport] });
 * await jobs.trigger("send-welcome", { email: "a@b.co" }, { delay: "10s" });
 */
export function createJobstash<const TJobs extends readonly AnyJob[]>(
  options: JobstashOptions<TJobs>,
): Jobstash<TJobs> {
  const fail = failIn("createJobstash");
  if (typeof options?.app !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.app)) {
    fail("app", `${NAME_RULE}, starting with a letter or digit (got ${JSON.stringify(options?.app)})`);
  }
  const jobs = new Map<string, AnyJob>();
  for (const job of options.jobs ?? []) {
    if (typeof job?.id !== "string" || !job.definition) fail("jobs", "entries must come from defineJob()");
    if (jobs.has(job.id)) fail("jobs", `must have distinct ids: two jobs have the id "${job.id}"`);
    jobs.set(job.id, job);
  }
  const resources = declaredResources(jobs.values(), options.queues, options.flowControls);

  const lookup = (id: string, where: string): AnyJob => {
    const job = jobs.get(id);
    if (!job) {
      throw new ConfigError(
        `${where}: unknown job "${id}"; known jobs: ${[...jobs.keys()].join(", ") || "(none)"}`,
      );
    }
    return job;
  };

  const prepare = async (id: string, input: unknown, call: TriggerOptions, config: Config, where: string) => {
    const job = lookup(id, where);
    const fail = failIn(where);
    checkDeliveryOptions(call, fail);
    const result = await job.input["~standard"].validate(input);
    if (result.issues) {
      throw new InvalidPayloadError(
        `${where}: the input does not match the schema of job "${id}"`,
        result.issues,
      );
    }
    return buildRequest(job, input, result.value, call, config, fail);
  };

  const inner: JobstashInternals = {
    options,
    config: (bindings?: EnvSource) => resolveConfig(options, bindings),
    resources,
  };

  const urlFor = (id: string, bindings: EnvSource | undefined) =>
    jobUrl(resolveConfig(options, bindings).baseUrl(), lookup(id, "url()").id);

  // The trigger side, resolving settings on each call with `bindings` (none for the registry
  // itself). Only closures over the shared jobs: cheap to make per request.
  const view = (bindings: EnvSource | undefined): JobstashWithEnv<TJobs> => ({
    async trigger(id, input, call = {}) {
      const { publisher } = inner;
      const config = resolveConfig(options, captured(publisher, bindings));
      const message = await prepare(id, input, call, config, `trigger("${id}")`);
      if (publisher) return (await publisher.publish([message]))[0]!;
      return publish(config.qstash(), message);
    },
    async batch(items) {
      const { publisher } = inner;
      const config = resolveConfig(options, captured(publisher, bindings));
      // Every item is validated before the first request, so a bad one publishes nothing.
      const requests = await Promise.all(
        items.map((item, index) =>
          prepare(item.id, item.input, item.options ?? {}, config, `batch[${index}] ("${item.id}")`),
        ),
      );
      if (publisher) return publisher.publish(requests);
      const qstash = config.qstash();
      const ids: string[] = [];
      for (let start = 0; start < requests.length; start += BATCH_CHUNK) {
        ids.push(...(await publishBatch(qstash, requests.slice(start, start + BATCH_CHUNK))));
      }
      return ids;
    },
    url: (id) => urlFor(id, bindings),
  });

  const registry: Jobstash<TJobs> = {
    app: options.app,
    jobs,
    ...view(undefined),
    url: urlFor,
    withEnv: (env) => view(env),
  };
  Object.defineProperty(registry, INTERNALS, { value: inner });
  return registry;
}

/**
 * The bindings a trigger resolves its settings with: its own, over the publisher's env while a
 * test harness captures the registry (so `withEnv(env)` needs no base URL in `env` there).
 */
function captured(publisher: Publisher | undefined, bindings: EnvSource | undefined) {
  if (!publisher) return bindings;
  return bindings ? { ...publisher.env(), ...bindings } : publisher.env();
}
