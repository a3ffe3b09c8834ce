import type { EnvSource } from "../config.js";
import type { Logger } from "../job/types.js";
import { type AnyJobstash, internals } from "../jobstash.js";
import { callbackUrl, jobUrl, route } from "../protocol.js";
import { readBody } from "./body.js";
import { runCallback } from "./callback.js";
import { runJob } from "./job.js";
import { isThenable, type Maybe } from "./maybe.js";
import {
  failureReply,
  HttpFailure,
  log,
  logPrefix,
  nonRetryable,
  type Reply,
  toResponse,
} from "./respond.js";
import { type Claims, SignatureFailure, verifySignature } from "./verify.js";

/** What Workers and Vercel pass as the third argument; only `waitUntil` is used. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * The receiver: a fetch handler for every job of a registry. It takes any `Request`, or any
 * other {@link DeliveryRequest} (an adapter's view of its server's own request).
 */
export type Handler = (
  request: Request | DeliveryRequest,
  env?: EnvSource,
  ctx?: ExecutionContextLike,
) => Promise<Response>;

/**
 * The parts of a `Request` the receiver reads. Any Request satisfies it; a bridge from a
 * server without Web requests (Node's `http`) can implement it directly instead of paying
 * for a Request it would build only to have it read once.
 */
export interface DeliveryRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer | Uint8Array>;
  readonly body: ReadableStream<Uint8Array> | null;
}

/** The receiver one level down: the answer as plain data, for bridges that write it themselves. */
export type ReplyHandler = (
  request: DeliveryRequest,
  env?: EnvSource,
  ctx?: ExecutionContextLike,
) => Promise<Reply>;

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;
const DEFAULT_CLOCK_TOLERANCE = 5;

/**
 * Create the fetch-shaped receiver for all jobs of `jobstash`. Mount it so each job's path
 * ends in its id (`<mount>/<jobId>`); adapters do this for each framework.
 *
 * Per request: verify the QStash signature over the raw body and the public URL, route to
 * the job, validate the input, run it, and answer in the terms QStash acts on. Callbacks
 * come back to the job's URL with `?callback=success` or `?callback=failure`.
 *
 * @example
 * const handler = createHandler(jobs);
 * export default { fetch: handler }; // Workers; adapters wrap the same function
 */
export function createHandler(jobs: AnyJobstash): Handler {
  const reply = createReplyHandler(jobs);
  // The reply handler never rejects: whatever fails becomes a reply.
  return (request, env, ctx) => reply(request, env, ctx).then(toResponse);
}

/** Options of {@link createReplyHandler}. */
export interface ReplyHandlerOptions {
  /**
   * Where this receiver writes, its own lines and `ctx.logger`'s, in place of the registry's
   * `logger` (`jobstash/testing` passes its own).
   */
  logger?: Logger;
}

/**
 * `createHandler` without the `Response`: the same receiver answering with a {@link Reply}.
 * For adapters that write to a Node `ServerResponse`.
 */
export function createReplyHandler(jobs: AnyJobstash, overrides: ReplyHandlerOptions = {}): ReplyHandler {
  const { options, config: configFor } = internals(jobs);
  const logger: Logger = overrides.logger ?? options.logger ?? console;
  const maxBody = options.maxBodySize ?? DEFAULT_MAX_BODY;
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  const background = floating(logger);

  return async (request, env, executionContext) => {
    let jobId: string | undefined;
    try {
      if (request.method !== "POST") {
        throw new HttpFailure(
          405,
          "METHOD_NOT_ALLOWED",
          `${request.method} is not allowed; QStash delivers with POST`,
          {
            Allow: "POST",
          },
        );
      }
      const { rawId, marker } = route(request.url);
      jobId = safeDecode(rawId);
      const config = configFor(env);
      const keys = config.signingKeys();
      const baseUrl = config.baseUrl();

      const token = request.headers.get("upstash-signature");
      if (!token)
        throw new HttpFailure(
          401,
          "UNAUTHORIZED",
          "missing Upstash-Signature header; only QStash may call this endpoint",
        );
      const body = await readBody(request, maxBody);
      let claims: Maybe<Claims>;
      try {
        claims = verifySignature(token, body, { keys, clockTolerance });
        // Synchronous with node:crypto: awaited only when it is a promise (WebCrypto).
        if (isThenable(claims)) claims = await claims;
      } catch (error) {
        if (error instanceof SignatureFailure) throw new HttpFailure(401, "UNAUTHORIZED", error.message);
        throw error;
      }
      // The URL QStash signed must be the one trigger published to: a token for one job (or
      // host) cannot be replayed against another. It is rebuilt from the id and the callback
      // marker alone, because frameworks add their own query parameters (Next.js's Edge
      // runtime appends the route params).
      const expected = marker === null ? jobUrl(baseUrl, rawId) : callbackUrl(baseUrl, rawId, marker);
      if (claims.sub !== expected) {
        throw new HttpFailure(
          401,
          "URL_MISMATCH",
          `signature is for another URL: got ${claims.sub}, expected ${expected}; set JOBSTASH_BASE_URL to the public URL the jobs are mounted at`,
        );
      }

      const job = jobs.jobs.get(jobId);
      if (!job) {
        throw nonRetryable(
          "UNKNOWN_JOB",
          `no job "${jobId}" here; known jobs: ${[...jobs.jobs.keys()].join(", ") || "(none)"}`,
        );
      }
      const waitUntil = executionContext ? executionContext.waitUntil.bind(executionContext) : background;
      const base = { job, env: config.env, waitUntil, logger };

      if (marker === null) {
        return await runJob(base, body, request.headers);
      }
      if (marker === "success" || marker === "failure") {
        return await runCallback(base, marker, body);
      }
      throw nonRetryable("BAD_CALLBACK", `unknown callback marker "${marker}"; expected success or failure`);
    } catch (error) {
      // Built here, not by a closure over jobId and request: a closure in this async function
      // makes V8 allocate a context for it on every request (measured: about 15% of the
      // receiver's throughput).
      return failureReply(error, logger, logPrefix(jobId, request.headers.get("upstash-message-id")));
    }
  };
}

function safeDecode(segment: string): string {
  // Job ids are plain words: most segments hold nothing to decode.
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Without a platform `waitUntil`, background work just runs on; its failures are logged. */
function floating(logger: Logger) {
  return (promise: Promise<unknown>) => {
    promise.catch((error) => log(logger, "error", "jobstash: background work failed", error));
  };
}
