import type { Hono } from "hono";
import type { PublishResult } from "../engine/accept.js";
import { badRequest } from "../engine/errors.js";
import type { HeaderMap } from "../engine/message-config.js";
import { bodyOf, callerIp, destinationOf, headerMap, jsonBody, type RouteDeps, userOf } from "./context.js";

function withQueryConfig(headers: HeaderMap, config: HeaderMap): HeaderMap {
  for (const [k, v] of config) if (!headers.has(k)) headers.set(k, v);
  return headers;
}

interface BatchItem {
  destination?: unknown;
  headers?: unknown;
  body?: unknown;
  queue?: unknown;
}

export function registerPublishRoutes(app: Hono, { engine, maxBodySize }: RouteDeps): void {
  app.post("/v2/publish/*", async (c) => {
    const user = userOf(c, engine);
    const { destination, config } = destinationOf(c, "/v2/publish/".length);
    const body = await bodyOf(c, maxBodySize);
    const r = engine.accept.publish(user, {
      destination,
      headers: withQueryConfig(headerMap(c), config),
      body,
      callerIp: callerIp(c),
    });
    return c.json(r.result, r.status);
  });

  app.post("/v2/enqueue/:queue/*", async (c) => {
    const user = userOf(c, engine);
    const queue = c.req.param("queue");
    const prefix = rawPrefixLength(c.req.url, "/v2/enqueue/", 1);
    const { destination, config } = destinationOf(c, prefix);
    const body = await bodyOf(c, maxBodySize);
    const r = engine.accept.publish(user, {
      destination,
      headers: withQueryConfig(headerMap(c), config),
      body,
      queueName: queue,
      callerIp: callerIp(c),
    });
    return c.json(r.result, r.status);
  });

  app.post("/v2/batch", async (c) => {
    const user = userOf(c, engine);
    const items = await jsonBody<BatchItem[]>(c, "batch", "array");
    const ip = callerIp(c);
    // Validate every item before accepting any, so a bad item never half-publishes a batch.
    const commits = items.map((item, i) => {
      if (typeof item !== "object" || item === null || typeof item.destination !== "string") {
        throw badRequest(`batch item ${i}: "destination" must be a URL or URL group name`);
      }
      const headers: HeaderMap = new Map();
      if (item.headers !== undefined) {
        if (typeof item.headers !== "object" || item.headers === null)
          throw badRequest(`batch item ${i}: "headers" must be an object`);
        for (const [k, v] of Object.entries(item.headers as Record<string, unknown>)) {
          headers.set(k.toLowerCase(), Array.isArray(v) ? v.join(", ") : String(v));
        }
      }
      if (item.body !== undefined && typeof item.body !== "string")
        throw badRequest(`batch item ${i}: "body" must be a string`);
      const body = item.body ? Buffer.from(item.body) : undefined;
      if (body && body.length > maxBodySize)
        throw badRequest(`batch item ${i}: body is over ${maxBodySize} bytes`);
      if (item.queue !== undefined && typeof item.queue !== "string")
        throw badRequest(`batch item ${i}: "queue" must be a string`);
      try {
        return engine.accept.prepare(user, {
          destination: item.destination,
          headers,
          body,
          queueName: item.queue as string | undefined,
          callerIp: ip,
        });
      } catch (error) {
        if (error instanceof Error) error.message = `batch item ${i}: ${error.message}`;
        throw error;
      }
    });
    const results: (PublishResult | PublishResult[])[] = commits.map((commit) => commit().result);
    return c.json(results);
  });
}

/** Length of `<prefix><segment>/…` `segments` deep, measured on the raw target. */
function rawPrefixLength(url: string, prefix: string, segments: number): number {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  const path = url.slice(start);
  let i = prefix.length;
  for (let s = 0; s < segments; s++) i = path.indexOf("/", i) + 1;
  return i;
}
