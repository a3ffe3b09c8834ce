import { describe, expect, it } from "vitest";
import { type createFixture, STACK_OR_PATH, UNPRINTABLE } from "../helpers/fixture.js";
import { BASE } from "../helpers/keys.js";
import { sign } from "../helpers/sign.js";

export type Seen = ReturnType<typeof createFixture>["seen"];

/** A running app that mounts an adapter at `/api/jobs`, serving the fixture's jobs. */
export interface Running {
  origin: string;
  /** What the fixture's jobs and hooks recorded, read from wherever they run. */
  seen(): Promise<Seen>;
  close(): Promise<void>;
}

export interface AdapterTarget {
  name: string;
  /** Start the framework's real server with `serve(jobs)` mounted at /api/jobs. */
  start(): Promise<Running>;
  /** The same, with the framework's usual JSON body parser in front of jobstash. */
  startWithParsedBody?(): Promise<Running>;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/**
 * One suite for every adapter: signed requests over real HTTP to the framework's own server.
 * The app's public URL is BASE (as behind a proxy); requests go to the local origin.
 */
export function conformance(target: AdapterTarget): void {
  describe(`${target.name} adapter`, () => {
    const post = async (origin: string, path: string, body: string, signFor = `${BASE}${path}`) => {
      const response = await fetch(`${origin}/api/jobs${path}`, {
        method: "POST",
        body,
        // A receiver that never answers fails the test instead of hanging it.
        signal: AbortSignal.timeout(10_000),
        headers: {
          "content-type": "application/json",
          "upstash-signature": sign({ url: signFor, body }),
          "upstash-message-id": "msg_conf",
          "upstash-retried": "1",
        },
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    };

    async function withApp<T>(run: (origin: string, app: Running) => Promise<T>) {
      const app = await target.start();
      try {
        return await run(app.origin, app);
      } finally {
        await app.close();
      }
    }

    it("delivers a valid message to the job and returns its output", () =>
      withApp(async (origin, app) => {
        const response = await post(origin, "/greet", JSON.stringify({ name: "Ada" }));
        expect(response.status).toBe(200);
        expect(JSON.parse(response.text)).toEqual({ greeting: "hello Ada" });
        expect((await app.seen()).runs).toEqual([
          {
            input: { name: "Ada", times: 1 },
            ctx: expect.objectContaining({ messageId: "msg_conf", attempt: 2 }),
          },
        ]);
      }));

    it("maps each outcome onto QStash's primitives", () =>
      withApp(async (origin) => {
        const invalid = await post(origin, "/greet", JSON.stringify({ name: "" }));
        expect([invalid.status, invalid.headers.get("upstash-nonretryable-error")]).toEqual([489, "true"]);
        expect(JSON.parse(invalid.text).error.issues[0].path).toBe("name");
        const nonRetryable = await post(origin, "/fail", JSON.stringify({ mode: "nonretryable" }));
        expect([nonRetryable.status, nonRetryable.headers.get("upstash-nonretryable-error")]).toEqual([
          489,
          "true",
        ]);
        const retryAfter = await post(origin, "/fail", JSON.stringify({ mode: "retry-seconds" }));
        expect([retryAfter.status, retryAfter.headers.get("retry-after")]).toEqual([429, "30"]);
        const thrown = await post(origin, "/fail", JSON.stringify({ mode: "throw" }));
        expect(thrown.status).toBe(500);
        const unknown = await post(origin, "/nope", "{}");
        expect(unknown.status).toBe(489);
      }));

    it("rejects a bad signature and a token for another URL with 401", () =>
      withApp(async (origin) => {
        const body = JSON.stringify({ name: "Ada" });
        const tampered = await fetch(`${origin}/api/jobs/greet`, {
          method: "POST",
          body: body.replace("Ada", "Eve"),
          headers: { "upstash-signature": sign({ url: `${BASE}/greet`, body }) },
        });
        expect(tampered.status).toBe(401);
        const wrongUrl = await post(origin, "/greet", body, "https://preview.example.com/api/jobs/greet");
        expect(wrongUrl.status).toBe(401);
        expect(wrongUrl.text).toContain(
          `got https://preview.example.com/api/jobs/greet, expected ${BASE}/greet`,
        );
        const unsigned = await fetch(`${origin}/api/jobs/greet`, { method: "POST", body });
        expect(unsigned.status).toBe(401);
      }));

    it("runs onSuccess for the successful attempt and onFailure with the DLQ id", () =>
      withApp(async (origin, app) => {
        const source = {
          sourceMessageId: "msg_src",
          sourceBody: b64(JSON.stringify({ name: "Zoë" })),
          retried: 0,
          maxRetries: 3,
        };
        const failedAttempt = await post(
          origin,
          "/greet?callback=success",
          JSON.stringify({ ...source, status: 500, body: b64("{}") }),
        );
        expect(failedAttempt.status).toBe(200);
        const ok = await post(
          origin,
          "/greet?callback=success",
          JSON.stringify({ ...source, status: 200, body: b64(JSON.stringify({ greeting: "hello Zoë" })) }),
        );
        expect(ok.status).toBe(200);
        expect((await app.seen()).successes).toEqual([
          { input: { name: "Zoë", times: 1 }, output: { greeting: "hello Zoë" }, messageId: "msg_src" },
        ]);
        const failed = await post(
          origin,
          "/greet?callback=failure",
          JSON.stringify({
            ...source,
            status: 489,
            retried: 0,
            dlqId: "dlq_9",
            body: b64('{"error":{"code":"NON_RETRYABLE","message":"no"}}'),
          }),
        );
        expect(failed.status).toBe(200);
        expect((await app.seen()).failures).toEqual([
          {
            input: { name: "Zoë", times: 1 },
            error: expect.objectContaining({ status: 489, message: "no" }),
            dlqId: "dlq_9",
          },
        ]);
      }));

    it("answers a throw that cannot be turned into text with JSON 500, never a stack", () =>
      withApp(async (origin) => {
        for (const value of Object.keys(UNPRINTABLE)) {
          const sourceBody = b64(JSON.stringify({ value }));
          const deliveries = [
            ["/odd-throw", { value }],
            ["/odd-throw?callback=success", { status: 200, body: "", sourceBody }],
            ["/odd-throw?callback=failure", { status: 500, body: "", sourceBody }],
          ] as const;
          for (const [path, body] of deliveries) {
            const response = await post(origin, path, JSON.stringify(body));
            expect([response.status, response.headers.get("content-type")], `${path} ${value}`).toEqual([
              500,
              "application/json",
            ]);
            expect(JSON.parse(response.text).error.code).toBe("JOB_FAILED");
            expect(response.text).not.toMatch(STACK_OR_PATH);
          }
        }
      }));

    it("answers 500 TIMEOUT when a job or hook outlives its timeout, without waiting for it", () =>
      withApp(async (origin) => {
        const source = { sourceMessageId: "msg_src", sourceBody: b64("{}"), retried: 0, maxRetries: 3 };
        const responses = await Promise.all([
          post(origin, "/stuck", "{}"),
          post(origin, "/stuck?callback=success", JSON.stringify({ ...source, status: 200, body: "" })),
          post(origin, "/stuck?callback=failure", JSON.stringify({ ...source, status: 500, body: "" })),
        ]);
        expect(responses.map((response) => [response.status, JSON.parse(response.text).error])).toEqual([
          [500, { code: "TIMEOUT", message: 'job "stuck" timed out after 1000 ms' }],
          [500, { code: "TIMEOUT", message: 'onSuccess of job "stuck" timed out after 1000 ms' }],
          [500, { code: "TIMEOUT", message: 'onFailure of job "stuck" timed out after 1000 ms' }],
        ]);
      }));

    it("answers 405 to other methods", () =>
      withApp(async (origin) => {
        const response = await fetch(`${origin}/api/jobs/greet`);
        expect(response.status).toBe(405);
      }));

    if (target.startWithParsedBody) {
      const startParsed = target.startWithParsedBody;
      it("explains, instead of failing the signature, when a body parser got there first", async () => {
        const app = await startParsed();
        try {
          const response = await post(app.origin, "/greet", JSON.stringify({ name: "Ada" }));
          expect(response.status).toBe(500);
          expect(JSON.parse(response.text).error).toMatchObject({
            code: "CONFIG",
            message: expect.stringMatching(/body parser/),
          });
          expect((await app.seen()).runs).toEqual([]);
        } finally {
          await app.close();
        }
      });
    }
  });
}
