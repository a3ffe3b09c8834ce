import { JobstashError } from "./errors.js";
import { messageHeaders, type PublishMessage } from "./protocol.js";

/**
 * Publishing to QStash: the three calls trigger makes (publish, enqueue, batch), sent with
 * `fetch` as the official `@upstash/qstash` Client sends them. Not the Client itself: it is a
 * single class with every QStash API in it (about 10 KB gzipped, 40% of a Workers bundle),
 * and trigger needs three requests. test/publish-parity.test.ts sends the same messages
 * through both and requires identical requests, so an SDK upgrade that changes the wire shows
 * up there. The CLI's other calls (DLQ, logs, schedules) go through the same sender, and
 * test/cli/api-parity.test.ts compares them with the Client's the same way.
 */

/** Where to publish and as whom, as `Config.qstash()` resolves it. */
export interface QStashTarget {
  url: string;
  token: string;
  /**
   * Milliseconds one request to QStash may take, retries included; then it is aborted.
   * @default {@link DEFAULT_PUBLISH_TIMEOUT_MS}
   */
  timeout?: number;
  /** The setting `url` came from, named in errors: `QSTASH_URL`, `qstash.url`, or `default`. */
  urlSetting?: "QSTASH_URL" | "qstash.url" | "default";
}

/**
 * How long one request to QStash may take, retries included, unless `qstash.timeout` says
 * otherwise. QStash answers a publish in well under a second; ten seconds leaves room for a
 * slow network and the retries below (about 4.3 s of backoff in all) while a trigger still
 * settles in bounded time, whatever the server does.
 */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

/**
 * QStash refused a publish, or never answered. `status` is its HTTP status (429: rate
 * limited), or 0 when there was no answer: unreachable after the retries, or timed out (the
 * message then names the URL tried and the setting it came from, with the cause attached).
 */
export class PublishError extends JobstashError {
  static override readonly kind: string = "PublishError";
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The HTTP status a QStash call failed with: a {@link PublishError}'s, or that of the SDK's
 * errors, which sync calls through; undefined for an error that carries none.
 */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === "number" ? status : undefined;
}

/** Publish one message (onto its queue, if it names one); resolves to its message id. */
export async function publish(qstash: QStashTarget, message: PublishMessage): Promise<string> {
  const path = message.queueName
    ? `v2/enqueue/${message.queueName}/${message.url}`
    : `v2/publish/${message.url}`;
  const reply = (await callQStash(qstash, {
    method: "POST",
    path,
    headers: messageHeaders(message),
    body: JSON.stringify(message.body),
  })) as { messageId: string };
  return reply.messageId;
}

/** Publish messages in one batch call; resolves to their message ids in order. */
export async function publishBatch(qstash: QStashTarget, messages: PublishMessage[]): Promise<string[]> {
  const items = messages.map((message) => ({
    destination: message.url,
    headers: messageHeaders(message),
    body: JSON.stringify(message.body),
    ...(message.queueName && { queue: message.queueName }),
  }));
  const reply = await callQStash(qstash, {
    method: "POST",
    path: "v2/batch",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(items),
  });
  return (Array.isArray(reply) ? reply : [reply]).map((item: { messageId: string }) => item.messageId);
}

/** Retries after a network error, as the SDK does: QStash may not have seen the request. */
const NETWORK_RETRIES = 5;

/** The SDK's backoff before retry `attempt` (0-based): 50 ms, 136 ms, 369 ms, 1 s, 2.7 s. */
const backoff = (attempt: number) => Math.exp(attempt) * 50;

/** setTimeout's limit; a longer AbortSignal.timeout would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One call to the QStash REST API, as {@link callQStash} sends it. */
export interface QStashCall {
  method: "GET" | "POST" | "DELETE" | "PATCH";
  /** Joined to the QStash URL with "/", e.g. `v2/dlq` or `v2/publish/<destination>`. */
  path: string;
  /** Added in order; an array repeats its key, `undefined` is left out (as the SDK builds queries). */
  query?: Record<string, string | number | readonly string[] | undefined>;
  headers?: Record<string, string>;
  body?: string;
  /** The answer carries no JSON (the SDK's `parseResponseAsJson: false`): resolve to undefined. */
  noContent?: boolean;
}

/**
 * Send one request to QStash as the official Client does (its URL building, its retries after
 * a network error), bounded by `qstash.timeout`: publishing and the CLI's other calls (DLQ,
 * logs, schedules) share it. A refusal or no answer throws {@link PublishError}.
 */
export async function callQStash(qstash: QStashTarget, call: QStashCall): Promise<unknown> {
  // Parsed like the SDK's URLs, so a destination is normalised the same way.
  const url = new URL(`${qstash.url}/${call.path}`);
  for (const [key, value] of Object.entries(call.query ?? {})) {
    if (value === undefined) continue;
    if (typeof value === "object") for (const item of value) url.searchParams.append(key, item);
    else url.searchParams.set(key, String(value));
  }
  const init = {
    method: call.method,
    headers: { ...call.headers, authorization: `Bearer ${qstash.token}` },
    body: call.body,
  };
  // One deadline for the request and its retries, so a trigger settles in bounded time: each
  // attempt may use what is left of it. The signal also covers reading the answer, and aborting
  // closes the connection, so a server that never answers leaves no socket behind.
  const timeout = Math.min(qstash.timeout ?? DEFAULT_PUBLISH_TIMEOUT_MS, MAX_TIMER_MS);
  const deadline = Date.now() + timeout;
  for (let attempt = 0; ; attempt++) {
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal });
    } catch (error) {
      if (signal.aborted) throw timedOut(qstash, timeout, error);
      const wait = backoff(attempt);
      if (attempt >= NETWORK_RETRIES || Date.now() + wait >= deadline) {
        throw new PublishError(
          `could not reach QStash at ${where(qstash)}: ${reason(error)} (${attempt + 1} attempt(s)); check the URL, and that the server is running`,
          0,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      continue;
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // QStash answered, so it saw the request: not retried, as a refusal is not.
      if (signal.aborted) throw timedOut(qstash, timeout, error);
      throw new PublishError(`QStash at ${where(qstash)} broke off its answer: ${reason(error)}`, 0, {
        cause: error,
      });
    }
    if (!response.ok) throw new PublishError(text || `QStash answered ${response.status}`, response.status);
    if (call.noContent) return undefined;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new PublishError(
        `QStash at ${where(qstash)} answered ${response.status} with something other than JSON (${JSON.stringify(text.slice(0, 60))}); is that QStash's URL?`,
        response.status,
        { cause: error },
      );
    }
  }
}

function timedOut(qstash: QStashTarget, timeout: number, cause: unknown): PublishError {
  const limit = timeout < 1000 ? `${timeout} ms` : `${timeout / 1000} s`;
  return new PublishError(
    `QStash at ${where(qstash)} did not answer within ${limit}, so the request was aborted; the qstash.timeout option sets the limit`,
    0,
    { cause },
  );
}

/** `http://127.0.0.1:9 (QSTASH_URL)`: the URL tried and the setting to change it with. */
function where({ url, urlSetting }: QStashTarget): string {
  const setting =
    urlSetting === "default"
      ? "the default; set QSTASH_URL or qstash.url for another"
      : (urlSetting ?? "QSTASH_URL / qstash.url");
  return `${url} (${setting})`;
}

/** fetch's own message is "fetch failed"; the cause says what failed (ECONNREFUSED, ...). */
function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const detail = cause?.message || cause?.code;
  return typeof detail === "string" && detail ? detail : String((error as Error)?.message ?? error);
}
