import type { AnyJob, JobContext } from "../job/types.js";
import { toMilliseconds } from "../util/duration.js";
import type { Base } from "./job.js";
import { describeThrown, HttpFailure, log, logPrefix } from "./respond.js";

/**
 * A job's abort controller, made on first use: most jobs have no timeout and never read
 * `ctx.signal`, and in Node an AbortController costs more per request than parsing the input.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  get controller(): AbortController {
    this.#controller ??= new AbortController();
    return this.#controller;
  }
}

/** setTimeout's longest delay; a longer one fires at once. */
const MAX_DELAY = 2 ** 31 - 1;

/** What runs under the job's timeout: the job itself or one of its hooks. */
export type Stage = "run" | "onSuccess" | "onFailure";

/**
 * Call the job's `run` or a hook with `args`, under `timeoutMs` (the job's `timeout`, or for
 * `run` the one trigger forwarded). Without a timeout it is just called: no timer, no
 * AbortController, no extra promise. With one, the reply does not wait past it, whether or not
 * the code listens to `ctx.signal`: the signal aborts, the caller gets a `500 TIMEOUT` failure
 * at once, and what the code does later is logged once and ignored.
 *
 * The stage is named, not passed as a closure: the callers are async functions on every
 * delivery's path, and a closure there moves their variables into a context V8 allocates per
 * request.
 */
export function underTimeout(
  base: Base,
  ctx: JobContext,
  abort: LazyAbort,
  stage: Stage,
  timeoutMs: number | undefined,
  ...args: unknown[]
): unknown {
  const { definition } = base.job;
  const code = definition[stage] as (...args: unknown[]) => unknown;
  // `apply` on the definition keeps `this` what `definition.run(...)` would make it.
  if (timeoutMs === undefined) return code.apply(definition, args);
  return race(base, ctx, abort, stage, Math.min(timeoutMs, MAX_DELAY), () => code.apply(definition, args));
}

/** Milliseconds of the job's own `timeout`; undefined without one. */
export function timeoutOf(job: AnyJob): number | undefined {
  const { timeout } = job.definition;
  return timeout === undefined ? undefined : toMilliseconds(timeout);
}

async function race<T>(
  base: Base,
  ctx: JobContext,
  abort: LazyAbort,
  stage: Stage,
  ms: number,
  work: () => T | Promise<T>,
): Promise<T> {
  const what = stage === "run" ? `job "${base.job.id}"` : `${stage} of job "${base.job.id}"`;
  const controller = abort.controller;
  let timedOut: HttpFailure | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const message = `${what} timed out after ${ms} ms`;
      timedOut = new HttpFailure(500, "TIMEOUT", message);
      controller.abort(new DOMException(message, "TimeoutError"));
      reject(timedOut);
    }, ms);
  });
  // A synchronous throw becomes a rejection, so it is raced like any other.
  const running = new Promise<T>((resolve) => resolve(work()));
  try {
    const value = await Promise.race([running, expired]);
    if (!timedOut) return value;
  } catch (error) {
    if (!timedOut) throw error;
  } finally {
    clearTimeout(timer);
  }
  // The time is up, even if `work` settled in the same instant (in answer to the abort): the
  // answer is the timeout. A later result cannot be sent any more, so it is only logged; a
  // rejection with the signal's own reason is `work` stopping as asked, and says nothing new.
  const reason = controller.signal.reason;
  const where = logPrefix(base.job.id, ctx.messageId);
  running.then(
    () => log(base.logger, "warn", `${where}: ${what} finished after its timeout; its result was ignored`),
    (error) => {
      if (error !== reason) {
        log(
          base.logger,
          "warn",
          `${where}: ${what} failed after its timeout (ignored): ${describeThrown(error)}`,
        );
      }
    },
  );
  throw timedOut;
}
