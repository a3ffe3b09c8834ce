import type { Context, Hono } from "hono";
import type { DlqEntry } from "../engine/model.js";
import { dlqView, logView, messageView } from "../engine/views.js";
import { callerIp, headerMap, parseBulkQuery, type RouteDeps, userOf } from "./context.js";

const CANCEL_FILTERS = [
  "topicName",
  "urlGroup",
  "queueName",
  "url",
  "host",
  "path",
  "label",
  "flowControlKey",
  "scheduleId",
  "callerIp",
  "callerIP",
  "fromDate",
  "toDate",
  "messageId",
] as const;

const DLQ_FILTERS = [
  "messageId",
  "url",
  "topicName",
  "urlGroup",
  "scheduleId",
  "queueName",
  "fromDate",
  "toDate",
  "responseStatus",
  "callerIp",
  "callerIP",
  "label",
  "flowControlKey",
] as const;

const LOG_FILTERS = [
  "messageId",
  "state",
  "url",
  "topicName",
  "urlGroup",
  "scheduleId",
  "queueName",
  "label",
  "flowControlKey",
  "callerIp",
  "callerIP",
  "host",
  "path",
  "fromDate",
  "toDate",
] as const;

export function registerMessageRoutes(app: Hono, { engine }: RouteDeps): void {
  app.get("/v2/messages/:id", (c) => {
    const user = userOf(c, engine);
    return c.json(messageView(engine.messages.get(user, c.req.param("id"))));
  });
  app.delete("/v2/messages/:id", (c) => {
    const user = userOf(c, engine);
    engine.messages.cancel(user, c.req.param("id"));
    return c.json({ cancelled: 1 });
  });
  app.delete("/v2/messages", (c) => {
    const user = userOf(c, engine);
    const q = parseBulkQuery(c, CANCEL_FILTERS, 1_000_000, Number.MAX_SAFE_INTEGER);
    return c.json({ cancelled: engine.messages.cancelMany(user, q.ids, q.filter, q.count) });
  });

  // ---- logs
  const logs = (key: "events" | "logs") =>
    app.get(`/v2/${key}`, (c) => {
      const user = userOf(c, engine);
      const q = parseBulkQuery(c, LOG_FILTERS, 1000, 1000);
      const page = engine.events.query(user, {
        ids: q.ids,
        filter: q.filter,
        count: q.count,
        cursor: q.cursor,
        order: q.order as "latestFirst" | "earliestFirst" | undefined,
      });
      const entries = page.entries.map(logView);
      return c.json(page.cursor ? { cursor: page.cursor, [key]: entries } : { [key]: entries });
    });
  logs("events");
  logs("logs");

  // ---- DLQ
  const dlqSelection = (c: Context) => {
    const user = userOf(c, engine);
    const q = parseBulkQuery(c, DLQ_FILTERS, 100, 100);
    const page = engine.dlq.page(user, q);
    return { user, q, page };
  };
  app.get("/v2/dlq", (c) => {
    const { page } = dlqSelection(c);
    const messages = page.entries.map(dlqView);
    return c.json(page.cursor ? { messages, cursor: page.cursor } : { messages });
  });
  app.get("/v2/dlq/:id", (c) => {
    const user = userOf(c, engine);
    return c.json(dlqView(engine.dlq.get(user, c.req.param("id"))));
  });
  app.delete("/v2/dlq/:id", (c) => {
    const user = userOf(c, engine);
    engine.dlq.delete(user, [engine.dlq.get(user, c.req.param("id"))]);
    return c.json({ deleted: 1 });
  });
  app.delete("/v2/dlq", (c) => {
    const { user, page, q } = dlqSelection(c);
    const deleted = engine.dlq.delete(user, page.entries);
    // Deleting shifts what the cursor points at: the next page starts where this one did.
    const cursor = page.cursor && !q.ids ? String(Number(q.cursor ?? 0)) : undefined;
    return c.json(cursor ? { deleted, cursor } : { deleted });
  });
  app.post("/v2/dlq/retry", (c) => {
    const { user, page, q } = dlqSelection(c);
    // Upstash-* headers (or upstash-* query keys) on the retry override the stored config.
    const overrides = new Map(q.rest);
    for (const [k, v] of headerMap(c)) {
      if (k.startsWith("upstash-") && !k.startsWith("upstash-telemetry-")) overrides.set(k, v);
    }
    const responses = engine.dlq.retry(user, page.entries, overrides, callerIp(c));
    const cursor = page.cursor && !q.ids ? String(Number(q.cursor ?? 0)) : undefined;
    return c.json(cursor ? { responses, cursor } : { responses });
  });
  app.post("/v2/dlq/retry/:id", (c) => {
    const user = userOf(c, engine);
    const entry: DlqEntry = engine.dlq.get(user, c.req.param("id"));
    const [r] = engine.dlq.retry(user, [entry], new Map(), callerIp(c));
    return c.json(r, 201);
  });

  // ---- signing keys
  app.get("/v2/keys", (c) => c.json(engine.users.keys(userOf(c, engine))));
  app.post("/v2/keys/rotate", (c) => c.json(engine.users.rotateKeys(userOf(c, engine))));
}
