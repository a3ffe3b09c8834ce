import { DEFAULT_RETRIES, type FlowControlLimits, QSTASH_NAME } from "../../protocol.js";
import { parseDuration } from "../../util/duration.js";
import { badRequest } from "./errors.js";
import { compileRetryDelay, type RetryDelayFn } from "./expression.js";

/** Request headers with lower-cased names; one value per name (fetch joins repeats with ", "). */
export type HeaderMap = Map<string, string>;

/** The storage form of headers: Go-canonical names, `string[]` values. */
export type StoredHeaders = Record<string, string[]>;

/** `bypass-tunnel-reminder` -> `Bypass-Tunnel-Reminder`, as Go's `http.CanonicalHeaderKey`. */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** Node's response headers (lower-case names), kept raw until someone reads them. */
export type RawHeaders = Record<string, string | string[] | undefined>;

/** Raw response headers in storage form; converted only when a callback, log or DLQ view needs them. */
export function storeRawHeaders(h: RawHeaders | undefined): StoredHeaders {
  const out: StoredHeaders = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[canonicalHeaderName(k)] = Array.isArray(v) ? v : [v];
  }
  return out;
}

/** Everything a publish (or schedule, or callback) header set configures. */
export interface MessageConfig {
  method: string;
  /** Forwarded headers and Content-Type, in storage form. */
  header: StoredHeaders;
  retries: number;
  retryDelay?: string;
  retryDelayFn?: RetryDelayFn;
  delayMs?: number;
  /** Absolute first delivery time, ms. */
  notBefore?: number;
  timeoutMs?: number;
  callback?: string;
  failureCallback?: string;
  /** `Upstash-Callback-*` headers renamed to `upstash-*`, parsed when a callback is published. */
  callbackHeaders?: HeaderMap;
  failureCallbackHeaders?: HeaderMap;
  flowControl?: FlowControlLimits;
  labels?: string[];
  deduplicationId?: string;
  contentBasedDeduplication?: boolean;
  cron?: string;
  scheduleId?: string;
  queueName?: string;
  /** `Upstash-Redact-Fields`: shown hashed in the message, log, DLQ and schedule APIs. */
  redact?: RedactConfig;
}

export interface RedactConfig {
  body?: boolean;
  allHeaders?: boolean;
  /** Go-canonical header names. */
  headers?: string[];
}

/** Parses `body, header, header[Authorization]` (also `headers` / `headers[...]`, as the docs write them). */
function parseRedactFields(value: string): RedactConfig {
  const redact: RedactConfig = {};
  for (const part of value.split(",")) {
    const p = part.trim();
    if (!p) continue;
    const m = /^headers?\[([^\]]+)\]$/.exec(p);
    if (p === "body") redact.body = true;
    else if (p === "header" || p === "headers") redact.allHeaders = true;
    else if (m) redact.headers = [...(redact.headers ?? []), canonicalHeaderName(m[1]!.trim())];
    else {
      throw badRequest(
        `invalid Upstash-Redact-Fields part ${JSON.stringify(p)}: use body, header or header[<Name>]`,
      );
    }
  }
  return redact;
}

export interface ConfigLimits {
  maxRetries: number;
  maxTimeoutMs: number;
  maxDelayMs: number;
}

const METHODS = new Set(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]);

function duration(name: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw badRequest(
      `invalid ${name} ${JSON.stringify(value)}: use a duration such as "10s", "5m", "2h", "1d10h30m"`,
    );
  }
  return ms;
}

function nonNegativeInt(name: string, value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw badRequest(`invalid ${name} ${JSON.stringify(value)}: use a whole number`);
  return Number(value.trim());
}

/** Checks an absolute http(s) URL, as a destination or callback must be. */
export function checkUrl(what: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest(`invalid ${what} ${JSON.stringify(value)}: use an absolute http:// or https:// URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw badRequest(
      `invalid ${what} ${JSON.stringify(value)}: only http:// and https:// URLs can be called`,
    );
  }
  return value;
}

/** Parses `parallelism=2, rate=10, period=1m` leniently (split on commas, bare period = seconds). */
export function parseFlowControlValue(key: string, value: string | undefined): FlowControlLimits {
  if (!key.trim()) throw badRequest("Upstash-Flow-Control-Key is empty: give a non-empty key");
  const fc: FlowControlLimits = { key };
  for (const part of (value ?? "").split(",")) {
    const p = part.trim();
    if (!p) continue;
    const [name, raw] = p.split("=").map((s) => s.trim());
    if (!raw)
      throw badRequest(`invalid Upstash-Flow-Control-Value part ${JSON.stringify(p)}: use name=value`);
    if (name === "parallelism" || name === "rate") {
      const n = nonNegativeInt(`flow-control ${name}`, raw);
      if (n < 1) throw badRequest(`invalid flow-control ${name} ${raw}: it must be at least 1`);
      fc[name] = n;
    } else if (name === "period") {
      const ms = duration("flow-control period", raw);
      if (ms < 1000 || ms > 7 * 86_400_000) {
        throw badRequest(`invalid flow-control period ${JSON.stringify(raw)}: use 1s to 7d`);
      }
      fc.period = Math.round(ms / 1000);
    } else {
      throw badRequest(
        `unknown Upstash-Flow-Control-Value part ${JSON.stringify(name)}: use parallelism, rate and period`,
      );
    }
  }
  if (fc.parallelism === undefined && fc.rate === undefined) {
    throw badRequest(
      `Upstash-Flow-Control-Key ${JSON.stringify(key)} needs Upstash-Flow-Control-Value with parallelism and/or rate`,
    );
  }
  return fc;
}

const IGNORED = /^upstash-(telemetry-|signature$)/;

/**
 * Turns a request's headers into a message configuration. `defaults` supplies what a callback
 * inherits from its source message.
 */
export function parseMessageConfig(
  h: HeaderMap,
  limits: ConfigLimits,
  defaults?: Partial<MessageConfig>,
): MessageConfig {
  const get = (name: string) => {
    const v = h.get(name);
    return v === undefined ? undefined : v.trim();
  };
  const method = (get("upstash-method") || defaults?.method || "POST").toUpperCase();
  if (!METHODS.has(method))
    throw badRequest(`invalid Upstash-Method ${JSON.stringify(method)}: use GET, POST, PUT, DELETE or PATCH`);

  const header: StoredHeaders = {};
  const callbackHeaders: HeaderMap = new Map();
  const failureCallbackHeaders: HeaderMap = new Map();
  const forwardAll = get("upstash-header-forward") === "true";
  for (const [name, value] of h) {
    if (name === "content-type") header["Content-Type"] = [value];
    else if (name.startsWith("upstash-forward-")) header[canonicalHeaderName(name.slice(16))] = [value];
    else if (name.startsWith("upstash-failure-callback-"))
      failureCallbackHeaders.set(`upstash-${name.slice(25)}`, value);
    else if (name.startsWith("upstash-callback-")) callbackHeaders.set(`upstash-${name.slice(17)}`, value);
    else if (name.startsWith("upstash-workflow-")) header[canonicalHeaderName(name)] = [value];
    else if (forwardAll && !name.startsWith("upstash-") && !IGNORED.test(name) && !HOP.has(name)) {
      header[canonicalHeaderName(name)] = [value];
    }
  }

  const cfg: MessageConfig = { method, header, retries: defaults?.retries ?? DEFAULT_RETRIES };
  const retries = get("upstash-retries");
  if (retries !== undefined && retries !== "") {
    cfg.retries = nonNegativeInt("Upstash-Retries", retries);
    if (cfg.retries > limits.maxRetries) {
      throw badRequest(`Upstash-Retries ${cfg.retries} is over the limit of ${limits.maxRetries}`);
    }
  }
  const retryDelay = get("upstash-retry-delay") || defaults?.retryDelay;
  if (retryDelay) {
    cfg.retryDelay = retryDelay;
    cfg.retryDelayFn = compileRetryDelay(retryDelay);
  }
  const delay = get("upstash-delay");
  if (delay) {
    cfg.delayMs = duration("Upstash-Delay", delay);
    if (cfg.delayMs > limits.maxDelayMs) throw badRequest(`Upstash-Delay ${delay} is over the maximum delay`);
  }
  const notBefore = get("upstash-not-before");
  if (notBefore) cfg.notBefore = nonNegativeInt("Upstash-Not-Before (unix seconds)", notBefore) * 1000;
  const timeout = get("upstash-timeout");
  if (timeout) {
    cfg.timeoutMs = duration("Upstash-Timeout", timeout);
    if (cfg.timeoutMs > limits.maxTimeoutMs) {
      throw badRequest(`Upstash-Timeout ${timeout} is over the maximum of ${limits.maxTimeoutMs / 1000}s`);
    }
  } else if (defaults?.timeoutMs) cfg.timeoutMs = defaults.timeoutMs;
  const callback = get("upstash-callback");
  if (callback) cfg.callback = checkUrl("Upstash-Callback", callback);
  const failureCallback = get("upstash-failure-callback");
  if (failureCallback) cfg.failureCallback = checkUrl("Upstash-Failure-Callback", failureCallback);
  if (cfg.callback && callbackHeaders.size) cfg.callbackHeaders = callbackHeaders;
  if (cfg.failureCallback && failureCallbackHeaders.size) cfg.failureCallbackHeaders = failureCallbackHeaders;
  if (callbackHeaders.has("upstash-delay") || failureCallbackHeaders.has("upstash-delay")) {
    throw badRequest(
      "delayed callbacks are not supported: remove Upstash-Callback-Delay / Upstash-Failure-Callback-Delay",
    );
  }

  const fcKey = h.get("upstash-flow-control-key");
  if (fcKey !== undefined) cfg.flowControl = parseFlowControlValue(fcKey, get("upstash-flow-control-value"));

  const label = get("upstash-label");
  if (label) {
    const labels = label
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (labels.length) cfg.labels = labels;
  }
  const dedup = get("upstash-deduplication-id");
  if (dedup) cfg.deduplicationId = dedup;
  if (get("upstash-content-based-deduplication") === "true") cfg.contentBasedDeduplication = true;
  const redact = get("upstash-redact-fields");
  if (redact) cfg.redact = parseRedactFields(redact);
  const cron = get("upstash-cron");
  if (cron) cfg.cron = cron;
  const scheduleId = get("upstash-schedule-id");
  if (scheduleId) {
    if (!QSTASH_NAME.test(scheduleId)) {
      throw badRequest(
        `invalid Upstash-Schedule-Id ${JSON.stringify(scheduleId)}: use letters, digits, ".", "_" and "-"`,
      );
    }
    cfg.scheduleId = scheduleId;
  }
  const queueName = get("upstash-queue-name");
  if (queueName) {
    if (!QSTASH_NAME.test(queueName)) {
      throw badRequest(
        `invalid Upstash-Queue-Name ${JSON.stringify(queueName)}: use letters, digits, ".", "_" and "-"`,
      );
    }
    cfg.queueName = queueName;
  }
  return cfg;
}

const HOP = new Set([
  "authorization",
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "accept-encoding",
]);
