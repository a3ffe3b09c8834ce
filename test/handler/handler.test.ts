import { createHandler, createJobstash, defineJob } from "jobstash";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { useWebCryptoForTests } from "../../src/handler/verify.js";
import { BASE, createFixture } from "../helpers/fixture.js";
import { delivery, KEYS, sign } from "../helpers/sign.js";

const url = (id: string, query = "") => `${BASE}/${id}${query}`;
const json = async (response: Response) => JSON.parse(await response.text());

// The whole suite runs twice: with node:crypto (Node's fast path) and with WebCrypto (Edge, Workers).
describe.each([
  ["node:crypto", false],
  ["WebCrypto", true],
])("createHandler (%s)", (_name, web) => {
  useWebCryptoForTests(web);
  afterEach(() => useWebCryptoForTests(web));

  describe("a valid delivery", () => {
    it("runs the job with the parsed input and answers 200 with the output", async () => {
      const { handler, seen } = createFixture();
      const response = await handler(
        delivery(
          url("greet"),
          { name: "Ada", times: "2" },
          {
            headers: {
              "upstash-retried": "2",
              "upstash-message-id": "msg_42",
              "upstash-schedule-id": "scd_1",
              "jobstash-max-retries": "5",
              "jobstash-label": "vip",
            },
          },
        ),
      );
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({ greeting: "hello Adahello Ada" });
      expect(seen.runs).toEqual([
        {
          input: { name: "Ada", times: 2 },
          ctx: {
            messageId: "msg_42",
            attempt: 3,
            retried: 2,
            maxRetries: 5,
            scheduleId: "scd_1",
            label: "vip",
          },
        },
      ]);
    });

    it("defaults maxRetries and label from the definition when no header says otherwise", async () => {
      const { handler, seen } = createFixture();
      await handler(delivery(url("greet"), { name: "Ada" }));
      expect(seen.runs[0]?.ctx).toMatchObject({
        attempt: 1,
        retried: 0,
        maxRetries: 3,
        label: "greet",
        scheduleId: undefined,
      });
    });

    it("answers 200 with an empty body when the job returns nothing", async () => {
      const { handler } = createFixture();
      const response = await handler(delivery(url("no-hooks"), undefined));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("");
    });

    it("ignores query parameters a framework adds to the URL (Next.js Edge adds route params)", async () => {
      const { handler } = createFixture();
      const request = delivery(url("greet"), { name: "Ada" });
      const withParams = new Request(`${url("greet")}?job=greet&x=1`, {
        method: "POST",
        headers: request.headers,
        body: await request.text(),
      });
      expect((await handler(withParams)).status).toBe(200);
    });

    it("routes on the last path segment, whatever the mount and a trailing slash", async () => {
      const { handler } = createFixture();
      const request = delivery(url("greet"), { name: "Ada" });
      const rewritten = new Request("http://localhost:3000/internal/greet/", {
        method: "POST",
        headers: request.headers,
        body: await request.text(),
      });
      expect((await handler(rewritten)).status).toBe(200);
    });
  });

  describe("outcomes", () => {
    const outcome = async (mode: string) => createFixture().handler(delivery(url("fail"), { mode }));

    it("NonRetryableError answers 489 with Upstash-NonRetryable-Error", async () => {
      const response = await outcome("nonretryable");
      expect(response.status).toBe(489);
      expect(response.headers.get("upstash-nonretryable-error")).toBe("true");
      expect(await json(response)).toEqual({
        error: { code: "NON_RETRYABLE", message: "the address bounced" },
      });
    });

    it.each([
      ["retry-seconds", "30"],
      ["retry-duration", "120"],
      ["retry-date", "90"],
      ["retry-long", "86400"],
    ])("RetryAfterError (%s) answers 429 with Retry-After %s", async (mode, seconds) => {
      const response = await outcome(mode);
      expect(response.status).toBe(429);
      expect(response.headers.get("upstash-nonretryable-error")).toBeNull();
      expect(Number(response.headers.get("retry-after"))).toBeCloseTo(Number(seconds), -0.5);
    });

    it("any other throw answers 500 with the name and message, never the stack", async () => {
      const response = await outcome("throw");
      expect(response.status).toBe(500);
      const body = await json(response);
      expect(body).toEqual({ error: { code: "JOB_FAILED", message: "TypeError: db connection refused" } });
      expect(JSON.stringify(body)).not.toContain("at ");
      expect((await outcome("string")).status).toBe(500);
    });

    it("a timeout aborts ctx.signal and answers 500 (retryable)", async () => {
      const { handler, seen } = createFixture();
      const response = await handler(delivery(url("slow"), {}));
      expect(response.status).toBe(500);
      expect((await json(response)).error).toEqual({
        code: "TIMEOUT",
        message: 'job "slow" timed out after 50 ms',
      });
      expect(seen.aborted).toHaveLength(1);
    });

    it("an output that breaks the output schema is non-retryable and names the field", async () => {
      const response = await createFixture().handler(delivery(url("bad-output"), {}));
      expect(response.status).toBe(489);
      const body = await json(response);
      expect(body.error.code).toBe("INVALID_OUTPUT");
      expect(body.error.issues).toEqual([{ path: "count", message: expect.any(String) }]);
    });
  });

  describe("bad input", () => {
    it("a payload that fails the schema answers 489 listing every issue", async () => {
      const response = await createFixture().handler(delivery(url("greet"), { name: "", times: "x" }));
      expect(response.status).toBe(489);
      expect(response.headers.get("upstash-nonretryable-error")).toBe("true");
      const body = await json(response);
      expect(body.error.code).toBe("INVALID_PAYLOAD");
      expect(body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["name", "times"]);
    });

    it("malformed JSON answers 489", async () => {
      const response = await createFixture().handler(delivery(url("greet"), undefined, { raw: "{not json" }));
      expect(response.status).toBe(489);
      expect((await json(response)).error.code).toBe("INVALID_JSON");
    });

    it("an unknown job is non-retryable and lists the known ones", async () => {
      const response = await createFixture().handler(delivery(url("nope"), {}));
      expect(response.status).toBe(489);
      expect((await json(response)).error).toMatchObject({
        code: "UNKNOWN_JOB",
        message: expect.stringContaining("greet, fail"),
      });
    });

    it("a method other than POST answers 405 with Allow", async () => {
      const response = await createFixture().handler(new Request(url("greet")));
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
    });

    it("an oversized body answers 413 before it is buffered, declared or chunked", async () => {
      const jobs = createJobstash({
        app: "a",
        jobs: [defineJob({ id: "greet", input: z.any(), run: () => undefined })],
        baseUrl: BASE,
        signingKeys: KEYS,
        maxBodySize: 1024,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      const handler = createHandler(jobs);
      const big = "x".repeat(2048);
      const declared = delivery(url("greet"), undefined, { raw: big });
      expect((await handler(declared)).status).toBe(413);
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(big.slice(0, 512)));
          controller.close();
        },
      });
      const chunked = new Request(url("greet"), {
        method: "POST",
        body: stream,
        headers: { "upstash-signature": sign({ url: url("greet"), body: big }) },
        duplex: "half",
      } as RequestInit);
      const response = await handler(chunked);
      expect(response.status).toBe(413);
      expect((await json(response)).error.message).toMatch(/maxBodySize/);
    });

    it("a body the connection drops mid-way is a 400, not a job that threw", async () => {
      const { handler, logs, seen } = createFixture();
      const body = JSON.stringify({ name: "Ada" });
      const dropped = new Request(url("greet"), {
        method: "POST",
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(body.slice(0, 4)));
            controller.error(new Error("aborted"));
          },
        }),
        headers: { "upstash-signature": sign({ url: url("greet"), body }) },
        duplex: "half",
      } as RequestInit);
      const response = await handler(dropped);
      expect(response.status).toBe(400);
      expect((await json(response)).error).toMatchObject({
        code: "UNREADABLE_BODY",
        message: "the request body could not be read (aborted)",
      });
      expect(seen.runs).toEqual([]);
      // A failed delivery like any other: one warning, nothing about a job.
      expect(logs).toEqual([
        "warn [jobstash greet ?]: 400 UNREADABLE_BODY: the request body could not be read (aborted)",
      ]);
    });
  });

  describe("signatures", () => {
    const reject = async (request: Request) => {
      const response = await createFixture().handler(request);
      expect(response.status).toBe(401);
      return (await json(response)).error.message as string;
    };

    it("a missing signature is 401", async () => {
      const request = new Request(url("greet"), { method: "POST", body: "{}" });
      expect(await reject(request)).toMatch(/missing Upstash-Signature/);
    });

    it("a token from the next key is accepted (key rotation)", async () => {
      const { handler, seen } = createFixture();
      const response = await handler(delivery(url("greet"), { name: "Ada" }, { sign: { key: KEYS.next } }));
      expect(response.status).toBe(200);
      expect(seen.runs).toHaveLength(1);
    });

    it("a token from another key is 401 and names the env vars to check", async () => {
      expect(await reject(delivery(url("greet"), { name: "Ada" }, { sign: { key: "sig_other" } }))).toMatch(
        /QSTASH_CURRENT_SIGNING_KEY/,
      );
    });

    it("an expired token is 401; skew within the tolerance passes", async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(await reject(delivery(url("greet"), { name: "Ada" }, { sign: { now: now - 310 } }))).toMatch(
        /expired/,
      );
      const { handler } = createFixture();
      expect(
        (await handler(delivery(url("greet"), { name: "Ada" }, { sign: { now: now - 303 } }))).status,
      ).toBe(200);
    });

    it("a token not yet valid is 401; a clock a little behind passes", async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(
        await reject(delivery(url("greet"), { name: "Ada" }, { sign: { claims: { nbf: now + 60 } } })),
      ).toMatch(/not valid before/);
      const { handler } = createFixture();
      expect(
        (await handler(delivery(url("greet"), { name: "Ada" }, { sign: { claims: { nbf: now + 3 } } })))
          .status,
      ).toBe(200);
    });

    it("a tampered body is 401 and hints at a re-serialising body parser", async () => {
      const request = delivery(url("greet"), { name: "Ada" });
      const tampered = new Request(request.url, {
        method: "POST",
        headers: request.headers,
        body: '{"name": "Ada"}',
      });
      expect(await reject(tampered)).toMatch(/body hash does not match.*re-serialised/);
    });

    it("a token signed for another URL is 401 with got and expected", async () => {
      const body = JSON.stringify({ name: "Ada" });
      const request = new Request(url("greet"), {
        method: "POST",
        body,
        headers: {
          "upstash-signature": sign({ url: "https://preview-123.vercel.app/api/jobs/greet", body }),
        },
      });
      expect(await reject(request)).toBe(
        `signature is for another URL: got https://preview-123.vercel.app/api/jobs/greet, expected ${url("greet")}; set JOBSTASH_BASE_URL to the public URL the jobs are mounted at`,
      );
    });

    it("a token for one job cannot be replayed on another", async () => {
      const body = "{}";
      const request = new Request(url("fail"), {
        method: "POST",
        body,
        headers: { "upstash-signature": sign({ url: url("greet"), body }) },
      });
      expect(await reject(request)).toMatch(/got .*\/greet, expected .*\/fail/);
    });

    it.each([
      ["a wrong issuer", { claims: { iss: "Mallory" } }, /issuer/],
      ["alg none", { header: { alg: "none", typ: "JWT" } }, /algorithm/],
      ["a non-numeric exp", { claims: { exp: "soon" } }, /"exp" is not a number/],
      ["no body claim", { claims: { body: undefined } }, /no "body" claim/],
    ])("%s is 401", async (_case, signOptions, message) => {
      expect(await reject(delivery(url("greet"), { name: "Ada" }, { sign: signOptions }))).toMatch(message);
    });

    it("garbage in the header is 401, not a crash", async () => {
      // The last: a signature segment of length 1 mod 4, which is no base64 (atob throws on it).
      const tokens = [
        "abc",
        "a.b",
        "a.b.c",
        "!!.??.**",
        `${btoa("{")}.${btoa("{}")}.x`,
        "eyJhbGciOiJIUzI1NiJ9.e30.x",
      ];
      for (const token of tokens) {
        const request = new Request(url("greet"), {
          method: "POST",
          body: "{}",
          headers: { "upstash-signature": token },
        });
        expect((await createFixture().handler(request)).status).toBe(401);
      }
    });
  });

  describe("configuration", () => {
    it("missing signing keys answer 500 (retryable) naming the variables to set", async () => {
      const jobs = createJobstash({
        app: "a",
        jobs: [defineJob({ id: "greet", input: z.any(), run: () => 1 })],
        baseUrl: BASE,
        env: {},
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      const response = await createHandler(jobs)(delivery(url("greet"), {}));
      expect(response.status).toBe(500);
      expect((await json(response)).error).toMatchObject({
        code: "CONFIG",
        message: expect.stringMatching(/QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY/),
      });
    });

    it("treats an empty signing key as none: the other key verifies, and none at all says what to set", async () => {
      const registry = (signingKeys: { current?: string; next?: string }) =>
        createJobstash({
          app: "a",
          jobs: [defineJob({ id: "greet", input: z.any(), run: () => 1 })],
          baseUrl: BASE,
          signingKeys,
          env: {},
          logger: { debug() {}, info() {}, warn() {}, error() {} },
        });
      const signedWithNext = () => delivery(url("greet"), {}, { sign: { key: KEYS.next } });
      expect((await createHandler(registry({ current: "", next: KEYS.next }))(signedWithNext())).status).toBe(
        200,
      );
      const none = await createHandler(registry({ current: "" }))(signedWithNext());
      expect(none.status).toBe(500);
      expect((await json(none)).error).toMatchObject({
        code: "CONFIG",
        message: expect.stringMatching(/no signing keys/),
      });
    });

    it("reads keys and base URL from the request's env bindings (Workers)", async () => {
      const jobs = createJobstash({
        app: "a",
        jobs: [defineJob({ id: "greet", input: z.any(), run: () => 1 })],
        env: {},
      });
      const handler = createHandler(jobs);
      const bindings = {
        QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
        QSTASH_NEXT_SIGNING_KEY: KEYS.next,
        JOBSTASH_BASE_URL: `${BASE}/`,
      };
      expect((await handler(delivery(url("greet"), {}), bindings)).status).toBe(200);
      const missing = await handler(delivery(url("greet"), {}), {
        ...bindings,
        JOBSTASH_BASE_URL: undefined,
      });
      expect((await json(missing)).error.message).toMatch(/JOBSTASH_BASE_URL/);
    });

    it("never logs a token or a key", async () => {
      const { handler, logs } = createFixture();
      const request = delivery(url("greet"), { name: "Ada" }, { sign: { key: "sig_other" } });
      const token = request.headers.get("upstash-signature")!;
      await handler(request);
      await handler(delivery(url("fail"), { mode: "throw" }));
      expect(logs.length).toBeGreaterThan(0);
      for (const line of logs) {
        expect(line).not.toContain(token.split(".")[2]);
        expect(line).not.toContain(KEYS.current);
      }
    });
  });

  describe("callbacks", () => {
    const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
    const payload = (fields: Record<string, unknown>) => ({
      status: 200,
      header: { "Content-Type": ["application/json"] },
      retried: 0,
      maxRetries: 3,
      sourceMessageId: "msg_src",
      url: url("greet"),
      method: "POST",
      sourceHeader: { "Jobstash-Label": ["greet"] },
      sourceBody: b64(JSON.stringify({ name: "Zoë 🌍" })),
      ...fields,
    });

    it("a success callback for the successful attempt runs onSuccess once with typed input and output", async () => {
      const { handler, seen } = createFixture();
      const response = await handler(
        delivery(
          url("greet", "?callback=success"),
          payload({ body: b64(JSON.stringify({ greeting: "hello Zoë 🌍" })) }),
        ),
      );
      expect(response.status).toBe(200);
      expect(seen.successes).toEqual([
        { input: { name: "Zoë 🌍", times: 1 }, output: { greeting: "hello Zoë 🌍" }, messageId: "msg_src" },
      ]);
    });

    it("success callbacks of failed attempts do not reach onSuccess", async () => {
      const { handler, seen } = createFixture();
      for (const status of [500, 429, 489]) {
        const response = await handler(
          delivery(url("greet", "?callback=success"), payload({ status, body: b64("{}") })),
        );
        expect(response.status).toBe(200);
        expect((await json(response)).ignored).toMatch(/onSuccess waits for success/);
      }
      expect(seen.successes).toEqual([]);
    });

    it("a failure callback runs onFailure with the last status, body, message and DLQ id", async () => {
      const { handler, seen } = createFixture();
      const errorBody = JSON.stringify({ error: { code: "JOB_FAILED", message: "Error: café fermé" } });
      const response = await handler(
        delivery(
          url("greet", "?callback=failure"),
          payload({ status: 500, retried: 3, body: b64(errorBody), dlqId: "dlq_1" }),
        ),
      );
      expect(response.status).toBe(200);
      expect(seen.failures).toEqual([
        {
          input: { name: "Zoë 🌍", times: 1 },
          error: { status: 500, body: errorBody, message: "Error: café fermé" },
          dlqId: "dlq_1",
        },
      ]);
    });

    it("a callback URL must be signed as such: the plain job URL's token does not fit", async () => {
      const body = JSON.stringify(payload({}));
      const request = new Request(url("greet", "?callback=success"), {
        method: "POST",
        body,
        headers: { "upstash-signature": sign({ url: url("greet"), body }) },
      });
      expect((await createFixture().handler(request)).status).toBe(401);
    });

    it("callbacks for a job without the hook are acknowledged and ignored", async () => {
      const { handler } = createFixture();
      const response = await handler(delivery(url("no-hooks", "?callback=success"), payload({})));
      expect(response.status).toBe(200);
      expect((await json(response)).ignored).toMatch(/no onSuccess/);
    });

    it("a source input that never matched the schema skips the hook but is acknowledged", async () => {
      const { handler, seen } = createFixture();
      const response = await handler(
        delivery(url("greet", "?callback=failure"), payload({ status: 489, sourceBody: b64('{"name":""}') })),
      );
      expect(response.status).toBe(200);
      expect(seen.failures).toEqual([]);
    });

    it("a body that is no callback payload is non-retryable", async () => {
      const response = await createFixture().handler(
        delivery(url("greet", "?callback=success"), { hello: 1 }),
      );
      expect(response.status).toBe(489);
      expect((await json(response)).error.code).toBe("INVALID_CALLBACK");
    });

    it("an unknown callback marker is non-retryable", async () => {
      const response = await createFixture().handler(delivery(url("greet", "?callback=maybe"), payload({})));
      expect(response.status).toBe(489);
    });
  });

  // The success callback hands onSuccess the job's response body, parsed: these follow one
  // output from run, through the response, into the callback, as QStash carries it.
  describe("the output's JSON trip to onSuccess", () => {
    const AT = "2024-05-06T07:08:09.010Z";
    const outputs: unknown[] = [];
    const stamp = defineJob({
      id: "stamp",
      input: z.object({}),
      run: () => ({ at: new Date(AT), note: undefined, tags: new Set(["a"]), list: [undefined, 1] }),
      onSuccess({ output }) {
        // What the types promise is what the test below sees at run time.
        expectTypeOf(output).toEqualTypeOf<{
          at: string;
          tags: Record<string, never>;
          list: (number | null)[];
        }>();
        outputs.push(output);
      },
    });
    const coerced = defineJob({
      id: "coerced",
      input: z.object({}),
      output: z.object({ at: z.coerce.date() }),
      run: () => ({ at: new Date(AT) }),
      onSuccess({ output }) {
        expectTypeOf(output).toEqualTypeOf<{ at: Date }>();
        outputs.push(output);
      },
    });
    const strict = defineJob({
      id: "strict",
      input: z.object({}),
      output: z.object({ at: z.date() }),
      run: () => ({ at: new Date(AT) }),
      onSuccess: ({ output }) => {
        outputs.push(output);
      },
    });
    const big = defineJob({ id: "big", input: z.object({}), run: () => ({ count: 10n ** 20n }) });
    const fn = defineJob({
      id: "fn",
      input: z.object({}),
      run: () => () => "a function",
      onSuccess({ output }) {
        expectTypeOf(output).toEqualTypeOf<undefined>();
        outputs.push(output);
      },
    });
    const handler = createHandler(
      createJobstash({
        app: "trip",
        jobs: [stamp, coerced, strict, big, fn],
        baseUrl: BASE,
        signingKeys: KEYS,
        env: {},
        logger: { debug() {}, info() {}, warn: (line: string) => warnings.push(line), error() {} },
      }),
    );
    const warnings: string[] = [];

    /** Run the job, then post its response body back as QStash's success callback would. */
    const roundTrip = async (id: string) => {
      outputs.length = 0;
      const response = await handler(delivery(url(id), {}));
      expect(response.status).toBe(200);
      const body = Buffer.from(await response.arrayBuffer()).toString("base64");
      const callback = await handler(
        delivery(url(id, "?callback=success"), {
          status: 200,
          body,
          sourceMessageId: "msg_src",
          sourceBody: Buffer.from("{}").toString("base64"),
        }),
      );
      expect(callback.status).toBe(200);
      expect(outputs).toHaveLength(1);
      return outputs[0];
    };

    it("a Date returned by run reaches onSuccess as its ISO string, as Jsonify types it", async () => {
      const output = await roundTrip("stamp");
      expect(output).toStrictEqual({ at: AT, tags: {}, list: [null, 1] });
    });

    it("with an output schema onSuccess gets the schema's parse of the JSON: a coerced Date is a Date", async () => {
      const output = (await roundTrip("coerced")) as { at: unknown };
      expect(output.at).toBeInstanceOf(Date);
      expect(output.at).toEqual(new Date(AT));
    });

    it("an output schema that rejects its own JSON (z.date()) keeps onSuccess's callback for the DLQ and says what to fix", async () => {
      const response = await handler(delivery(url("strict"), {}));
      expect(response.status).toBe(200);
      const callback = await handler(
        delivery(url("strict", "?callback=success"), {
          status: 200,
          body: Buffer.from(await response.arrayBuffer()).toString("base64"),
          sourceMessageId: "msg_src",
          sourceBody: Buffer.from("{}").toString("base64"),
        }),
      );
      expect(callback.status).toBe(489);
      const { error } = await json(callback);
      expect(error).toMatchObject({ code: "INVALID_OUTPUT", issues: [{ path: "at" }] });
      expect(error.message).toMatch(/z\.coerce\.date\(\)/);
      expect(warnings).toEqual([expect.stringContaining('onSuccess of job "strict" cannot run')]);
    });

    it("a function returned by run is sent as no body and reaches onSuccess as undefined", async () => {
      const response = await handler(delivery(url("fn"), {}));
      expect(response.headers.get("content-type")).toBeNull();
      expect(await response.text()).toBe("");
      expect(await roundTrip("fn")).toBeUndefined();
    });

    it("an output JSON cannot carry (a bigint) is non-retryable and says why", async () => {
      const response = await handler(delivery(url("big"), {}));
      expect(response.status).toBe(489);
      expect(response.headers.get("upstash-nonretryable-error")).toBe("true");
      const { error } = await json(response);
      expect(error.code).toBe("INVALID_OUTPUT");
      expect(error.message).toMatch(/^the output of job "big" cannot be sent as JSON: .*BigInt/);
    });
  });
});
