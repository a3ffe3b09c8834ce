import type { Context, Hono } from "hono";
import { QSTASH_NAME } from "../../protocol.js";
import { badRequest } from "../engine/errors.js";
import { flowView, queueView, scheduleView } from "../engine/views.js";
import { bodyOf, callerIp, destinationOf, headerMap, jsonBody, type RouteDeps, userOf } from "./context.js";

function intParam(c: Context, name: string): number | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw badRequest(`invalid ${name} ${JSON.stringify(v)}: use a whole number from 1`);
  return Number(v);
}

export function registerResourceRoutes(app: Hono, { engine, maxBodySize }: RouteDeps): void {
  // ---- queues
  app.post("/v2/queues", async (c) => {
    const user = userOf(c, engine);
    const b = await jsonBody<{ queueName?: unknown; parallelism?: unknown; paused?: unknown }>(
      c,
      "queue upsert",
    );
    if (typeof b.queueName !== "string") throw badRequest('queue upsert needs "queueName" (a string)');
    if (b.parallelism !== undefined && typeof b.parallelism !== "number") {
      throw badRequest(
        `invalid parallelism ${JSON.stringify(b.parallelism)}: use a whole number from 1 to 1000`,
      );
    }
    const parallelism = b.parallelism ?? 1;
    engine.queues.upsert(user, b.queueName, parallelism, b.paused === true);
    return c.json({});
  });
  app.get("/v2/queues", (c) => c.json(engine.queues.list(userOf(c, engine)).map(queueView)));
  app.get("/v2/queues/:name", (c) =>
    c.json(queueView(engine.queues.get(userOf(c, engine), c.req.param("name")))),
  );
  app.delete("/v2/queues/:name", (c) => {
    engine.queues.delete(userOf(c, engine), c.req.param("name"));
    return c.json({});
  });
  app.post("/v2/queues/:name/:action{pause|resume}", (c) => {
    engine.queues.pause(userOf(c, engine), c.req.param("name"), c.req.param("action") === "pause");
    return c.json({});
  });

  // ---- schedules: pause/resume (PATCH in the SDK, POST in the docs) before the create catch-all
  const pause = (c: Context) => {
    engine.schedules.pause(userOf(c, engine), c.req.param("id")!, c.req.param("action") === "pause");
    return c.json({});
  };
  app.patch("/v2/schedules/:id/:action{pause|resume}", pause);
  // Only a schedule id (QStash's name pattern, unanchored for the router) before /pause or
  // /resume, so a destination URL posted to the create route below is never taken for one.
  app.post(`/v2/schedules/:id{${QSTASH_NAME.source.slice(1, -1)}}/:action{pause|resume}`, pause);
  app.get("/v2/schedules", (c) => c.json(engine.schedules.list(userOf(c, engine)).map(scheduleView)));
  app.get("/v2/schedules/:id", (c) =>
    c.json(scheduleView(engine.schedules.get(userOf(c, engine), c.req.param("id")))),
  );
  app.delete("/v2/schedules/:id", (c) => {
    engine.schedules.delete(userOf(c, engine), c.req.param("id"));
    return c.json({});
  });
  app.post("/v2/schedules/*", async (c) => {
    const user = userOf(c, engine);
    const { destination, config } = destinationOf(c, "/v2/schedules/".length);
    const headers = headerMap(c);
    for (const [k, v] of config) if (!headers.has(k)) headers.set(k, v);
    const body = await bodyOf(c, maxBodySize);
    return c.json(engine.schedules.create(user, destination, headers, body, callerIp(c)));
  });

  // ---- URL groups (topics)
  const endpointsBody = async (c: Context) => {
    const b = await jsonBody<{ endpoints?: unknown }>(c, "endpoints");
    if (!Array.isArray(b.endpoints))
      throw badRequest('body must be {"endpoints": [{"url": "...", "name"?: "..."}]}');
    for (const ep of b.endpoints as unknown[]) {
      const e = ep as { name?: unknown; url?: unknown } | null;
      if (typeof e !== "object" || e === null)
        throw badRequest('every endpoint must be an object: {"url": "...", "name"?: "..."}');
      if (e.url !== undefined && typeof e.url !== "string")
        throw badRequest('endpoint "url" must be a string');
      if (e.name !== undefined && typeof e.name !== "string")
        throw badRequest('endpoint "name" must be a string');
    }
    return b.endpoints as { name?: string; url?: string }[];
  };
  app.post("/v2/topics/:name/endpoints", async (c) => {
    const user = userOf(c, engine);
    const eps = await endpointsBody(c);
    for (const ep of eps) {
      if (typeof ep?.url !== "string") throw badRequest('every endpoint needs a "url"');
      if (ep.name !== undefined && typeof ep.name !== "string")
        throw badRequest('endpoint "name" must be a string');
    }
    engine.groups.addEndpoints(user, c.req.param("name"), eps as { name?: string; url: string }[]);
    return c.json({});
  });
  app.delete("/v2/topics/:name/endpoints", async (c) => {
    const user = userOf(c, engine);
    engine.groups.removeEndpoints(user, c.req.param("name"), await endpointsBody(c));
    return c.json({});
  });
  app.get("/v2/topics", (c) => c.json(engine.groups.list(userOf(c, engine))));
  app.get("/v2/topics/:name", (c) => c.json(engine.groups.get(userOf(c, engine), c.req.param("name"))));
  app.delete("/v2/topics/:name", (c) => {
    engine.groups.delete(userOf(c, engine), c.req.param("name"));
    return c.json({});
  });

  // ---- flow control
  app.get("/v2/globalParallelism", (c) => c.json(engine.flow.globalParallelism(userOf(c, engine))));
  app.get("/v2/flowControl", (c) =>
    c.json(engine.flow.list(userOf(c, engine), c.req.query("search")).map(flowView)),
  );
  app.get("/v2/flowControl/:key", (c) =>
    c.json(flowView(engine.flow.get(userOf(c, engine), c.req.param("key")))),
  );
  app.post("/v2/flowControl/:key/:action", (c) => {
    const user = userOf(c, engine);
    const key = c.req.param("key");
    switch (c.req.param("action")) {
      case "pause":
        engine.flow.pause(user, key, true);
        break;
      case "resume":
        engine.flow.pause(user, key, false);
        break;
      case "pin":
        engine.flow.pin(user, key, {
          parallelism: intParam(c, "parallelism"),
          rate: intParam(c, "rate"),
          period: intParam(c, "period"),
        });
        break;
      case "unpin":
        engine.flow.unpin(user, key, {
          parallelism: c.req.query("parallelism") === "true",
          rate: c.req.query("rate") === "true",
        });
        break;
      case "resetRate":
      case "reset":
        engine.flow.resetRate(user, key);
        break;
      default:
        throw badRequest(
          `unknown flow-control action ${JSON.stringify(c.req.param("action"))}: use pause, resume, pin, unpin or resetRate`,
        );
    }
    return c.json({});
  });
}
