import { createHash } from "node:crypto";
import { DEFAULT_PERIOD_SECONDS } from "../../protocol.js";
import { type MessageConfig, type StoredHeaders, storeRawHeaders } from "./message-config.js";
import {
  bodyBytes,
  type DlqEntry,
  type FlowKey,
  type LogEntry,
  type Message,
  type Queue,
  type Schedule,
} from "./model.js";

/** JSON objects as QStash returns them: fields without a value are left out (Go `omitempty`). */
type Json = Record<string, unknown>;

function compact(o: Json): Json {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function redacted(value: string | Buffer): string {
  return `REDACTED:${createHash("sha256").update(value).digest("hex")}`;
}

/** Headers as the management APIs show them: redacted ones hashed (they are delivered intact). */
function shownHeaders(cfg: MessageConfig): StoredHeaders {
  const r = cfg.redact;
  if (!r || (!r.allHeaders && !r.headers?.length)) return cfg.header;
  const out: StoredHeaders = {};
  for (const [name, values] of Object.entries(cfg.header)) {
    const hide = name !== "Content-Type" && (r.allHeaders || r.headers?.includes(name));
    out[name] = hide ? values.map(redacted) : values;
  }
  return out;
}

function shownBody(cfg: MessageConfig, body: string | undefined): Json {
  const bytes = bodyBytes(body);
  if (bytes && cfg.redact?.body) return { body: redacted(bytes) };
  return bodyFields(bytes);
}

function bodyFields(body: Buffer | undefined): Json {
  if (!body || body.length === 0) return {};
  const text = body.toString("utf8");
  // Valid UTF-8 round-trips; anything else is returned base64-encoded.
  return Buffer.byteLength(text) === body.length && !text.includes("\uFFFD")
    ? { body: text }
    : { bodyBase64: body.toString("base64") };
}

function flowFields(cfg: Message["cfg"]): Json {
  const fc = cfg.flowControl;
  if (!fc) return {};
  return {
    flowControlKey: fc.key,
    parallelism: fc.parallelism,
    rate: fc.rate,
    period: fc.period ?? (fc.rate ? DEFAULT_PERIOD_SECONDS : undefined),
  };
}

export function messageView(m: Message): Json {
  const cfg = m.cfg;
  return compact({
    messageId: m.id,
    url: m.url,
    topicName: m.topicName,
    endpointName: m.endpointName,
    method: cfg.method,
    header: shownHeaders(cfg),
    ...shownBody(cfg, m.body),
    maxRetries: cfg.retries,
    retryDelayExpression: cfg.retryDelay,
    notBefore: m.notBefore,
    createdAt: m.createdAt,
    callback: cfg.callback,
    failureCallback: cfg.failureCallback,
    queueName: m.queue?.name,
    scheduleId: m.scheduleId,
    callerIP: m.callerIp,
    callerIp: m.callerIp,
    ...flowFields(cfg),
    timeout: cfg.timeoutMs !== undefined ? Math.round(cfg.timeoutMs / 1000) : undefined,
    label: cfg.labels?.[0],
    labels: cfg.labels,
  });
}

export function dlqView(e: DlqEntry): Json {
  const o = e.outcome;
  const resp = bodyFields(o.body);
  return compact({
    ...messageView(e.msg),
    dlqId: e.dlqId,
    responseStatus: o.status,
    responseHeader: o.headers ? storeRawHeaders(o.headers) : undefined,
    responseBody: resp.body,
    responseBodyBase64: resp.bodyBase64,
    error: o.status === undefined ? o.error : undefined,
  });
}

export function logView(e: LogEntry): Json {
  const m = e.msg;
  const cfg = m.cfg;
  return compact({
    time: e.time,
    messageId: m.id,
    state: e.state,
    error: e.error,
    nextDeliveryTime: e.nextDeliveryTime,
    url: m.url,
    topicName: m.topicName,
    urlGroup: m.topicName,
    endpointName: m.endpointName,
    scheduleId: m.scheduleId,
    queueName: m.queue?.name,
    header: shownHeaders(cfg),
    body: logBody(cfg, m.body),
    responseStatus: e.responseStatus,
    responseBody: e.responseBody?.length ? e.responseBody.toString("base64") : undefined,
    responseHeaders: e.responseHeaders,
    timeout: cfg.timeoutMs,
    method: cfg.method,
    callback: cfg.callback,
    failureCallback: cfg.failureCallback,
    maxRetries: cfg.retries,
    retryDelayExpression: cfg.retryDelay,
    callerIp: m.callerIp,
    flowControlKey: cfg.flowControl?.key,
    label: cfg.labels?.[0],
    labels: cfg.labels,
  });
}

/** A log entry's body, base64 (hashed when redacted). */
function logBody(cfg: MessageConfig, body: string | undefined): string | undefined {
  const bytes = bodyBytes(body);
  if (!bytes) return undefined;
  return cfg.redact?.body ? Buffer.from(redacted(bytes)).toString("base64") : bytes.toString("base64");
}

export function scheduleView(s: Schedule): Json {
  const cfg = s.cfg;
  return compact({
    scheduleId: s.id,
    cron: s.cron,
    destination: s.destination,
    method: cfg.method,
    header: shownHeaders(cfg),
    ...shownBody(cfg, s.body),
    retries: cfg.retries,
    delay: cfg.delayMs !== undefined ? Math.round(cfg.delayMs / 1000) : undefined,
    callback: cfg.callback,
    failureCallback: cfg.failureCallback,
    queueName: cfg.queueName,
    ...flowFields(cfg),
    retryDelayExpression: cfg.retryDelay,
    timeout: cfg.timeoutMs !== undefined ? Math.round(cfg.timeoutMs / 1000) : undefined,
    createdAt: s.createdAt,
    isPaused: s.paused,
    lastScheduleTime: s.lastScheduleTime,
    nextScheduleTime: s.nextScheduleTime,
    lastScheduleStates: s.lastScheduleTime !== undefined ? s.lastStates : undefined,
    callerIp: s.callerIp,
    callerIP: s.callerIp,
    label: cfg.labels?.[0],
    labels: cfg.labels,
  });
}

export function queueView(q: Queue): Json {
  return {
    name: q.name,
    createdAt: q.createdAt,
    updatedAt: q.updatedAt,
    parallelism: q.parallelism,
    lag: q.pending.length + q.active,
    paused: q.paused,
  };
}

export function flowView(fk: FlowKey): Json {
  return {
    flowControlKey: fk.key,
    waitListSize: fk.waitlist.length,
    parallelismMax: fk.parallelism ?? 0,
    parallelismCount: fk.active,
    rateMax: fk.rate ?? 0,
    rateCount: fk.rateCount,
    ratePeriod: fk.period,
    ratePeriodStart: Math.floor(fk.periodStart / 1000),
    isPaused: fk.paused,
    isPinnedParallelism: fk.pinnedParallelism,
    isPinnedRate: fk.pinnedRate,
  };
}
