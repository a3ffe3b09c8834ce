import type { Context } from "hono";
import type { Engine } from "../engine/engine.js";
import { badRequest, DevServerError } from "../engine/errors.js";
import type { Filter } from "../engine/filters.js";
import type { HeaderMap } from "../engine/message-config.js";
import type { UserState } from "../engine/model.js";

/** What every route needs: the engine and the request limits. */
export interface RouteDeps {
  engine: Engine;
  maxBodySize: number;
  /** State is kept on disk: answer a change only once it is synced. */
  durable?: boolean;
}

/** The raw request target (path + query) exactly as sent: never normalised, so `https://` keeps its `//`. */
function rawTarget(c: Context): string {
  const url = c.req.url;
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start < 0 ? "/" : url.slice(start);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** Splits a raw query into (decoded key, decoded value, raw pair) triples. */
function queryPairs(rawQuery: string): { key: string; value: string; raw: string }[] {
  if (!rawQuery) return [];
  return rawQuery
    .split("&")
    .filter(Boolean)
    .map((raw) => {
      const eq = raw.indexOf("=");
      return eq < 0
        ? { key: decode(raw), value: "", raw }
        : { key: decode(raw.slice(0, eq)), value: decode(raw.slice(eq + 1)), raw };
    });
}

/** Node's request, present when served by @hono/node-server (absent for in-process `app.request`). */
function incomingOf(c: Context): { headers: Record<string, string | string[] | undefined> } | undefined {
  return (c.env as { incoming?: { headers: Record<string, string | string[] | undefined> } } | undefined)
    ?.incoming;
}

/** The request's headers with lower-case names. */
export function headerMap(c: Context): HeaderMap {
  const map: HeaderMap = new Map();
  // Node's already-parsed headers: materialising a WHATWG Headers object for every publish
  // showed up in profiles.
  const incoming = incomingOf(c);
  if (incoming) {
    for (const name in incoming.headers) {
      const value = incoming.headers[name];
      if (value !== undefined) map.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    return map;
  }
  c.req.raw.headers.forEach((value, name) => {
    map.set(name.toLowerCase(), value);
  });
  return map;
}

/**
 * Splits `<prefix><destination>?<query>` into the destination (raw remainder plus the raw query
 * minus QStash's own keys) and the configuration the query carries (`upstash-*` keys, as headers).
 */
export function destinationOf(c: Context, prefixLength: number): { destination: string; config: HeaderMap } {
  const target = rawTarget(c);
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const pairs = queryPairs(q < 0 ? "" : target.slice(q + 1));
  const config: HeaderMap = new Map();
  const kept: string[] = [];
  for (const p of pairs) {
    const k = p.key.toLowerCase();
    if (k === "qstash_token") continue;
    if (k.startsWith("upstash-")) config.set(k, p.value);
    else kept.push(p.raw);
  }
  let destination = path.slice(prefixLength);
  // Group names and queue names arrive percent-encoded by the SDK; URLs are kept as sent.
  if (!/^https?:\/\//i.test(destination)) destination = decode(destination);
  if (kept.length) destination += `?${kept.join("&")}`;
  return { destination, config };
}

/** The caller's user, from `Authorization: Bearer` or `?qstash_token=`. */
export function userOf(c: Context, engine: Engine): UserState {
  const auth = c.req.header("authorization");
  let token: string | undefined;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (!m) throw new DevServerError(401, "invalid Authorization header: use `Bearer <QSTASH_TOKEN>`");
    token = m[1]!.trim();
  } else {
    const target = rawTarget(c);
    const q = target.indexOf("?");
    token = queryPairs(q < 0 ? "" : target.slice(q + 1)).find((p) => p.key === "qstash_token")?.value;
  }
  return engine.users.byToken(token);
}

export function callerIp(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const ip = env?.incoming?.socket?.remoteAddress ?? "127.0.0.1";
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

/** The request body, or undefined when empty; 413 past `maxBodySize`. */
export async function bodyOf(c: Context, maxBodySize: number): Promise<Buffer | undefined> {
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > maxBodySize) throw tooLarge(declared, maxBodySize);
  const buf = Buffer.from(await c.req.arrayBuffer());
  if (buf.length > maxBodySize) throw tooLarge(buf.length, maxBodySize);
  return buf.length ? buf : undefined;
}

function tooLarge(size: number, max: number): DevServerError {
  return new DevServerError(413, `body of ${size} bytes is over the maximum of ${max} bytes (maxBodySize)`);
}

/** A JSON object body (not an array, null or a scalar); 400 otherwise. */
export async function jsonBody<T extends object>(
  c: Context,
  what: string,
  expect: "object" | "array" = "object",
): Promise<T> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest(`invalid JSON body for ${what}`);
  }
  const isArray = Array.isArray(value);
  if (typeof value !== "object" || value === null || isArray !== (expect === "array")) {
    throw badRequest(`the ${what} body must be a JSON ${expect}`);
  }
  return value as T;
}

/**
 * Query filters for the bulk endpoints. Unknown keys are rejected so a typo (`labeel=`) does not
 * silently match everything. Values may repeat or be comma-separated.
 */
export function parseBulkQuery(
  c: Context,
  allowed: readonly string[],
  maxCount: number,
  defaultCount: number,
): {
  ids?: string[];
  filter: Filter;
  count: number;
  cursor?: string;
  order?: string;
  rest: Map<string, string>;
} {
  const target = rawTarget(c);
  const q = target.indexOf("?");
  const filter: Filter = new Map();
  let ids: string[] | undefined;
  let count = defaultCount;
  let cursor: string | undefined;
  let order: string | undefined;
  const rest = new Map<string, string>();
  const allowedSet = new Set(allowed);
  for (const { key, value } of queryPairs(q < 0 ? "" : target.slice(q + 1))) {
    if (key === "qstash_token") continue;
    if (key.toLowerCase().startsWith("upstash-")) {
      rest.set(key.toLowerCase(), value);
      continue;
    }
    const values = value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    if (key === "messageIds" || key === "dlqIds") {
      ids = [...(ids ?? []), ...values];
    } else if (key === "count") {
      count = Number(value);
      if (!Number.isInteger(count) || count < 1)
        throw badRequest(`invalid count ${JSON.stringify(value)}: use a whole number from 1`);
      count = Math.min(count, maxCount);
    } else if (key === "cursor") cursor = value || undefined;
    else if (key === "order") {
      if (value !== "earliestFirst" && value !== "latestFirst") {
        throw badRequest(`invalid order ${JSON.stringify(value)}: use earliestFirst or latestFirst`);
      }
      order = value;
    } else if (allowedSet.has(key)) {
      const name = key === "callerIP" ? "callerIp" : key === "urlGroup" ? "topicName" : key;
      if ((name === "fromDate" || name === "toDate") && !/^\d+$/.test(value)) {
        throw badRequest(`invalid ${name} ${JSON.stringify(value)}: use unix milliseconds`);
      }
      filter.set(name, [...(filter.get(name) ?? []), ...values]);
    } else {
      throw badRequest(`unknown query parameter ${JSON.stringify(key)}: use one of ${allowed.join(", ")}`);
    }
  }
  return { ids, filter, count, cursor, order, rest };
}
