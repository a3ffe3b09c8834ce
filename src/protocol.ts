/**
 * The contract between trigger and the receiver, and the rest of what jobstash writes on
 * QStash's wire and reads back: the job and callback URLs, the headers of a message, the
 * defaults QStash fills in, a schedule's zone. Trigger, sync and the test harness write with
 * it; the receiver, the CLI and the dev server read with it, so a change to the wire format is
 * a change to this file (and `buildRequest` in message.ts, which fills it in for a job). It
 * imports nothing: every side loads it, Workers included.
 */

/** Headers jobstash forwards with every message so the receiver knows what QStash does not send. */
export const FORWARDED = {
  maxRetries: "Jobstash-Max-Retries",
  label: "Jobstash-Label",
  /**
   * Milliseconds of a `timeout` passed to trigger, which overrides the job's: QStash cuts the
   * attempt then, and the receiver stops waiting for `run` at the same time.
   */
  timeout: "Jobstash-Timeout",
} as const;

/** The URL a job is delivered to. */
export function jobUrl(baseUrl: string, id: string): string {
  return `${baseUrl}/${id}`;
}

/**
 * The URL a job's callbacks come back to: the job's, marked `success` (for onSuccess) or
 * `failure` (for onFailure). The receiver rebuilds it from any marker it routed, so a
 * signature for an unknown one is checked against its own URL.
 */
export function callbackUrl(baseUrl: string, id: string, marker: string): string {
  return `${baseUrl}/${id}?callback=${encodeURIComponent(marker)}`;
}

/**
 * The job's path segment (the last non-empty one) and the callback marker of a request URL.
 * String scanning instead of `new URL`, which costs more than the rest of the routing: this
 * runs on every delivery, and `request.url` is already normalised by whoever built the Request.
 */
export function route(url: string): { rawId: string; marker: string | null } {
  // A fragment never reaches a server, but a hand-built Request may carry one.
  const hash = url.indexOf("#");
  if (hash !== -1) url = url.slice(0, hash);
  const query = url.indexOf("?");
  const pathEnd = query === -1 ? url.length : query;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  // The last segment that is not empty, by index: no array of segments per delivery.
  let end = pathEnd;
  while (end > pathStart && url.charCodeAt(end - 1) === SLASH) end--;
  return {
    rawId: pathStart === -1 || end <= pathStart ? "" : url.slice(url.lastIndexOf("/", end - 1) + 1, end),
    marker: query === -1 ? null : new URLSearchParams(url.slice(query + 1)).get("callback"),
  };
}

const SLASH = 0x2f;

/** How often QStash retries a message that names no `Upstash-Retries`. */
export const DEFAULT_RETRIES = 3;

/** QStash's rate window, in seconds, when a message or a pin names none. */
export const DEFAULT_PERIOD_SECONDS = 1;

/** Flow-control limits as QStash takes and stores them: the period in whole seconds. */
export interface FlowControlLimits {
  key: string;
  parallelism?: number;
  rate?: number;
  period?: number;
}

/** The limits as QStash keeps them: unset (or zero) ones left out, and a period only with a rate. */
export function normalizeFlowControl(fc: FlowControlLimits): FlowControlLimits {
  return {
    key: fc.key,
    ...(fc.parallelism ? { parallelism: fc.parallelism } : {}),
    ...(fc.rate ? { rate: fc.rate, period: fc.period || DEFAULT_PERIOD_SECONDS } : {}),
  };
}

/** The names QStash accepts for queues, schedule ids and URL groups. */
export const QSTASH_NAME = /^[A-Za-z0-9._-]+$/;

/** A cron as QStash takes it: the zone as a `CRON_TZ=` prefix, none for UTC. */
export function cronWithZone({ cron, tz }: { cron: string; tz: string }): string {
  return tz === "UTC" ? cron : `CRON_TZ=${tz} ${cron}`;
}

/**
 * A cron split into its fields and its zone (UTC without a prefix). QStash documents only
 * `CRON_TZ=`; a `TZ=` prefix (which Go's cron parsers also take) is read the same way rather
 * than taken for a sixth field.
 */
export function splitCronZone(cron: string): { cron: string; tz: string } {
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(cron.trim());
  return {
    cron: (match ? match[2]! : cron).trim().replace(/\s+/g, " "),
    tz: match ? match[1]! : "UTC",
  };
}

/** One message as trigger publishes it (the fields it sets). */
export interface PublishMessage {
  url: string;
  body: unknown;
  headers: Record<string, string>;
  retries?: number;
  retryDelay?: string;
  /** Seconds. */
  timeout?: number;
  /** Seconds. */
  delay?: number;
  /** Unix seconds. */
  notBefore?: number;
  deduplicationId?: string;
  contentBasedDeduplication?: boolean;
  flowControl?: FlowControlLimits;
  callback?: string;
  failureCallback?: string;
  label?: string;
  queueName?: string;
}

/**
 * The message's headers, lower-case as fetch sends them. Headers of the caller's reach the
 * job under QStash's forwarding prefix; QStash's own (`upstash-*`) pass as they are.
 */
export function messageHeaders(message: PublishMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    const lower = name.toLowerCase();
    const own = lower.startsWith("upstash-") || lower.startsWith("content-type");
    headers[own ? lower : `upstash-forward-${lower}`] = value;
  }
  const set = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined && value !== false) headers[name] = String(value);
  };
  set("content-type", "application/json");
  set("upstash-method", "POST");
  set("upstash-delay", message.delay === undefined ? undefined : `${message.delay.toFixed(0)}s`);
  set("upstash-not-before", message.notBefore?.toFixed(0));
  set("upstash-deduplication-id", message.deduplicationId);
  set("upstash-content-based-deduplication", message.contentBasedDeduplication);
  set("upstash-retries", message.retries?.toFixed(0));
  set("upstash-retry-delay", message.retryDelay);
  set("upstash-callback", message.callback);
  set("upstash-failure-callback", message.failureCallback);
  set("upstash-timeout", message.timeout === undefined ? undefined : `${message.timeout}s`);
  const flow = message.flowControl;
  if (flow?.key) {
    const { parallelism, rate, period } = flow;
    set("upstash-flow-control-key", flow.key);
    set(
      "upstash-flow-control-value",
      [parallelism && `parallelism=${parallelism}`, rate && `rate=${rate}`, period && `period=${period}s`]
        .filter(Boolean)
        .join(", "),
    );
  }
  set("upstash-label", message.label);
  return headers;
}
