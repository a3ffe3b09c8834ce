import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { serve as honoNodeServe } from "@hono/node-server";
import express5 from "express";
import express4 from "express4";
import { Hono } from "hono";
import type { AnyJobstash } from "jobstash";
import { serve as serveExpress } from "jobstash/express";
import { serve as serveHono } from "jobstash/hono";
import { describe, expect, it } from "vitest";
import { BASE, createFixture } from "../helpers/fixture.js";
import { waitFor } from "../helpers/process.js";
import { sign } from "../helpers/sign.js";
import { conformance, type Running } from "./conformance.js";

function close(server: Server): () => Promise<void> {
  return () => new Promise((done) => server.close(() => done()));
}

/** Start `app(jobs)` on a real Node server with a fresh fixture. */
function nodeApp(
  app: (jobs: AnyJobstash) => RequestListener,
  fixture: Parameters<typeof createFixture>[0] = {},
): Promise<Running> {
  const { jobs, seen } = createFixture(fixture);
  const server = createServer(app(jobs));
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ origin: `http://127.0.0.1:${port}`, seen: async () => seen, close: close(server) });
    });
  });
}

/** Hono on its own Node server, @hono/node-server. */
function honoApp(app: (jobs: AnyJobstash) => Hono): Promise<Running> {
  const { jobs, seen } = createFixture();
  return new Promise((resolve) => {
    const server = honoNodeServe({ fetch: app(jobs).fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
      resolve({
        origin: `http://127.0.0.1:${info.port}`,
        seen: async () => seen,
        close: close(server as Server),
      });
    });
  });
}

conformance({
  name: "Hono on @hono/node-server",
  start: () => honoApp((jobs) => new Hono().route("/api/jobs", serveHono(jobs))),
  startWithParsedBody: () =>
    honoApp((jobs) =>
      new Hono()
        .use("/api/jobs/*", async (c, next) => {
          await c.req.json();
          await next();
        })
        .route("/api/jobs", serveHono(jobs)),
    ),
});

for (const [name, express] of [
  ["Express 5", express5],
  ["Express 4", express4],
] as const) {
  conformance({
    name,
    start: () => nodeApp((jobs) => express().use("/api/jobs", serveExpress(jobs))),
    startWithParsedBody: () =>
      nodeApp((jobs) => express().use(express.json()).use("/api/jobs", serveExpress(jobs))),
  });
}

/** What the Node bridge (Express and the Pages Router) does with bodies beyond the plain case. */
describe("the Node bridge's bodies, on Express 5", () => {
  const body = JSON.stringify({ name: "Ada" });
  const headers = {
    "content-type": "application/json",
    "upstash-signature": sign({ url: `${BASE}/greet`, body }),
  };
  /** The body in two chunks without a length: fetch sends it with Transfer-Encoding: chunked. */
  const chunked = (text: string) =>
    new ReadableStream({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        controller.enqueue(bytes.slice(0, 5));
        controller.enqueue(bytes.slice(5));
        controller.close();
      },
    });

  /** The same signed delivery twice: with a declared length, and chunked. */
  const declaredAndChunked = (url: string) =>
    Promise.all([
      fetch(url, { method: "POST", body, headers }),
      fetch(url, { method: "POST", body: chunked(body), headers, duplex: "half" } as RequestInit),
    ]);

  async function withServer(
    app: (jobs: AnyJobstash) => RequestListener,
    run: (url: string, app: Running) => Promise<void>,
    fixture?: Parameters<typeof createFixture>[0],
  ) {
    const running = await nodeApp(app, fixture);
    try {
      await run(`${running.origin}/api/jobs/greet`, running);
    } finally {
      await running.close();
    }
  }

  it("verifies the exact bytes express.raw() kept, declared or chunked", () =>
    withServer(
      (jobs) =>
        express5()
          .use(express5.raw({ type: "*/*" }))
          .use("/api/jobs", serveExpress(jobs)),
      async (url, app) => {
        const [declared, streamed] = await declaredAndChunked(url);
        expect([declared.status, streamed.status]).toEqual([200, 200]);
        expect((await app.seen()).runs).toHaveLength(2);
      },
    ));

  it("reads a chunked body", () =>
    withServer(
      (jobs) => express5().use("/api/jobs", serveExpress(jobs)),
      async (url) => {
        const response = await fetch(url, {
          method: "POST",
          body: chunked(body),
          headers,
          duplex: "half",
        } as RequestInit);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ greeting: "hello Ada" });
      },
    ));

  it("treats a client that leaves mid-body as a connection problem, not a failing job", async () => {
    const { jobs, seen, logs } = createFixture();
    const answered: number[] = [];
    let entered = false;
    const serveJobs = serveExpress(jobs);
    const app = express5().use("/api/jobs", (req, res, next) => {
      entered = true;
      // The socket is gone, so the answer never reaches the wire: note what jobstash wrote.
      const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
      res.end = ((...args: unknown[]) => {
        answered.push(res.statusCode);
        return end(...args);
      }) as typeof res.end;
      serveJobs(req, res, next);
    });
    const server = createServer(app);
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    try {
      const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
      await once(socket, "connect");
      socket.write(
        `POST /api/jobs/greet HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nUpstash-Signature: ${headers["upstash-signature"]}\r\n\r\n${body.slice(0, 4)}`,
      );
      await waitFor("the request to reach jobstash", async () => entered, 5_000);
      socket.destroy();
      await waitFor("jobstash to answer the dropped request", async () => answered.length === 1, 5_000);
      expect(answered).toEqual([400]);
      expect(seen.runs).toEqual([]);
      expect(logs).toEqual([
        "warn [jobstash greet ?]: 400 UNREADABLE_BODY: the request body could not be read (aborted)",
      ]);
    } finally {
      await close(server)();
    }
  });

  it("answers 413 to bodies over maxBodySize, declared or chunked", () =>
    withServer(
      (jobs) => express5().use("/api/jobs", serveExpress(jobs)),
      async (url, app) => {
        const [declared, streamed] = await declaredAndChunked(url);
        expect([declared.status, streamed.status]).toEqual([413, 413]);
        expect(await streamed.json()).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
        expect((await app.seen()).runs).toEqual([]);
      },
      { maxBodySize: 8 },
    ));
});
