import { compileRetryDelay } from "../expression.js";
import type { MessageConfig, RawHeaders } from "../message-config.js";
import type {
  AttemptOutcome,
  DlqEntry,
  FlowKey,
  LogEntry,
  LogState,
  Message,
  Phase,
  Queue,
  Schedule,
  UrlGroup,
  UserState,
} from "../model.js";

/**
 * The records of the data directory, one JSON object per line. Each states an entity's whole
 * state (or its deletion), never a difference: replaying a record twice, or replaying records
 * older than a snapshot over it, ends in the same state. That is what lets a snapshot be
 * written while the engine keeps running. Field names are short: a journal holds one
 * message record per publish.
 */
export type Record =
  | { k: "h"; format: typeof FORMAT; version: number }
  | { k: "u"; u: string; cur: string; nxt: string; dq: number }
  | { k: "c"; id: number; c: StoredConfig }
  | MessageRecord
  | MessageStateRecord
  | { k: "m-"; u: string; id: string; sl?: 1 }
  | LogRecord
  | { k: "d"; u: string; id: string; m: string; t: number; o: StoredOutcome }
  | {
      k: "s";
      u: string;
      id: string;
      d: string;
      c: number;
      b?: string;
      cron: string;
      ca: number;
      ip: string;
      pa?: 1;
      lt?: number;
      ns?: number;
      ls?: { [id: string]: string };
    }
  | { k: "q"; u: string; n: string; par: number; pa?: 1; ca: number; ua: number }
  | { k: "g"; u: string; n: string; ca: number; ua: number; e: UrlGroup["endpoints"] }
  | { k: "f"; u: string; key: string; par?: number; rate?: number; per: number; pp?: 1; pr?: 1; pa?: 1 }
  | { k: "x"; u: string; key: string; id: string; exp: number }
  | { k: "d-" | "s-" | "q-" | "g-" | "x-"; u: string; key: string };

/** Written first in every file; a directory of another format or a newer version is refused. */
export const FORMAT = "jobstash-dev-data";
export const VERSION = 1;

export interface MessageState {
  ph: Phase;
  r: number;
  /** Next attempt (retry phase). */
  at?: number;
  cr?: 1;
  sl?: 1;
}

export interface MessageRecord extends MessageState {
  k: "m";
  u: string;
  id: string;
  o: number;
  c: number;
  url: string;
  b?: string;
  ca: number;
  nb: number;
  ip: string;
  tn?: string;
  en?: string;
  si?: string;
  q?: string;
  f?: string;
  p?: string;
}

export interface MessageStateRecord extends MessageState {
  k: "ms";
  u: string;
  id: string;
}

export interface LogRecord {
  k: "l";
  u: string;
  n: number;
  t: number;
  s: LogState;
  m: string;
  e?: string;
  nd?: number;
  st?: number;
  rb?: string;
  rh?: LogEntry["responseHeaders"];
}

export interface StoredOutcome {
  st?: number;
  h?: RawHeaders;
  b?: string;
  /** The full length of a body that was cut. */
  tf?: number;
  e?: string;
}

export type StoredConfig = Omit<
  MessageConfig,
  "retryDelayFn" | "callbackHeaders" | "failureCallbackHeaders"
> & {
  callbackHeaders?: [string, string][];
  failureCallbackHeaders?: [string, string][];
};

const one = (flag: boolean): 1 | undefined => (flag ? 1 : undefined);

export function messageState(msg: Message): MessageState {
  return {
    ph: msg.phase,
    r: msg.retried,
    at: msg.phase === "retry" ? msg.at : undefined,
    cr: one(msg.cancelRequested),
    sl: one(msg.holdsQueueSlot),
  };
}

/**
 * A message record as a line, its body last, with where the body's JSON string sits in the
 * line (in bytes): the body can then be read back from the file alone, and memory let go of it.
 * A body is found from the line too: the last `,"b":` in it, since inside any JSON string a
 * quote is escaped.
 */
export function messageLine(
  msg: Message,
  config: number,
): { line: string; body?: { at: number; length: number } } {
  const record = JSON.stringify(messageRecord(msg, config));
  const body = msg.body;
  if (body === undefined) return { line: `${record}\n` };
  const head = `${record.slice(0, -1)},"b":`;
  const literal = JSON.stringify(body);
  return {
    line: `${head}${literal}}\n`,
    body: { at: Buffer.byteLength(head), length: Buffer.byteLength(literal) },
  };
}

/** Where a message line's body is: after the last `,"b":`, up to the closing brace. */
export function bodyInLine(line: Buffer): { at: number; length: number } | undefined {
  const key = line.lastIndexOf(BODY_KEY);
  if (key < 0) return undefined;
  const at = key + BODY_KEY.length;
  return { at, length: line.length - at - 1 };
}

const BODY_KEY = Buffer.from(',"b":');

/** The record without its body (see {@link messageLine}, which appends it). */
function messageRecord(msg: Message, config: number): MessageRecord {
  return {
    k: "m",
    u: msg.user.userId,
    id: msg.id,
    o: msg.order,
    c: config,
    url: msg.url,
    ca: msg.createdAt,
    nb: msg.notBefore,
    ip: msg.callerIp,
    tn: msg.topicName,
    en: msg.endpointName,
    si: msg.scheduleId,
    q: msg.queue?.name,
    f: msg.flow?.key,
    p: msg.parent?.id,
    ...messageState(msg),
  };
}

/** A final message; `sl` when it still holds its queue slot for callbacks that are pending. */
export function doneRecord(msg: Message): Record {
  return { k: "m-", u: msg.user.userId, id: msg.id, sl: one(msg.holdsQueueSlot && msg.pendingChildren > 0) };
}

export function logRecord(e: LogEntry): LogRecord {
  return {
    k: "l",
    u: e.msg.user.userId,
    n: e.seq,
    t: e.time,
    s: e.state,
    m: e.msg.id,
    e: e.error,
    nd: e.nextDeliveryTime,
    st: e.responseStatus,
    rb: e.responseBody?.length ? e.responseBody.toString("base64") : undefined,
    rh: e.responseHeaders,
  };
}

function storeOutcome(o: AttemptOutcome): StoredOutcome {
  return {
    st: o.status,
    h: o.headers,
    b: o.body?.length ? o.body.toString("base64") : undefined,
    tf: o.truncatedFrom,
    e: o.error,
  };
}

export function loadOutcome(o: StoredOutcome): AttemptOutcome {
  return {
    status: o.st,
    headers: o.h,
    body: o.b === undefined ? undefined : Buffer.from(o.b, "base64"),
    truncatedFrom: o.tf,
    error: o.e,
  };
}

export function dlqRecord(user: UserState, e: DlqEntry): Record {
  return { k: "d", u: user.userId, id: e.dlqId, m: e.msg.id, t: e.time, o: storeOutcome(e.outcome) };
}

export function scheduleRecord(s: Schedule, config: number): Record {
  return {
    k: "s",
    u: s.user.userId,
    id: s.id,
    d: s.destination,
    c: config,
    b: s.body,
    cron: s.cron,
    ca: s.createdAt,
    ip: s.callerIp,
    pa: one(s.paused),
    lt: s.lastScheduleTime,
    ns: s.nextScheduleTime,
    ls: s.lastScheduleTime === undefined ? undefined : s.lastStates,
  };
}

export function queueRecord(user: UserState, q: Queue): Record {
  return {
    k: "q",
    u: user.userId,
    n: q.name,
    par: q.parallelism,
    pa: one(q.paused),
    ca: q.createdAt,
    ua: q.updatedAt,
  };
}

export function groupRecord(user: UserState, g: UrlGroup): Record {
  return { k: "g", u: user.userId, n: g.name, ca: g.createdAt, ua: g.updatedAt, e: g.endpoints };
}

export function flowRecord(user: UserState, fk: FlowKey): Record {
  return {
    k: "f",
    u: user.userId,
    key: fk.key,
    par: fk.parallelism,
    rate: fk.rate,
    per: fk.period,
    pp: one(fk.pinnedParallelism),
    pr: one(fk.pinnedRate),
    pa: one(fk.paused),
  };
}

export function userRecord(user: UserState): Record {
  return { k: "u", u: user.userId, cur: user.currentSigningKey, nxt: user.nextSigningKey, dq: user.dlqSeq };
}

export function storeConfig(cfg: MessageConfig): StoredConfig {
  const { retryDelayFn: _, callbackHeaders, failureCallbackHeaders, ...rest } = cfg;
  return {
    ...rest,
    callbackHeaders: callbackHeaders && [...callbackHeaders],
    failureCallbackHeaders: failureCallbackHeaders && [...failureCallbackHeaders],
  };
}

export function loadConfig(stored: StoredConfig): MessageConfig {
  const { callbackHeaders, failureCallbackHeaders, ...rest } = stored;
  const cfg: MessageConfig = { ...rest };
  if (callbackHeaders) cfg.callbackHeaders = new Map(callbackHeaders);
  if (failureCallbackHeaders) cfg.failureCallbackHeaders = new Map(failureCallbackHeaders);
  if (cfg.retryDelay) cfg.retryDelayFn = compileRetryDelay(cfg.retryDelay);
  return cfg;
}
