import { createHandler, createJobstash, defineJob } from "jobstash";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BASE, createFixture } from "../helpers/fixture.js";
import { delivery, KEYS, sign } from "../helpers/sign.js";

const url = (id: string, query = "") => `${BASE}/${id}${query}`;
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** Every call the receiver makes to its logger: the level and all arguments. */
function recordingLogger() {
  const calls: unknown[][] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      calls.push([level, ...args]);
  return { calls, logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}

/** The fixture's jobs with a logger that keeps every argument. */
function receiver(options: { maxBodySize?: number; keys?: boolean } = {}) {
  const { jobs } = createFixture();
  const { calls, logger } = recordingLogger();
  const handler = createHandler(
    createJobstash({
      app: "test-app",
      jobs: [...jobs.jobs.values()],
      baseUrl: BASE,
      ...(options.keys === false ? {} : { signingKeys: KEYS }),
      env: {},
      logger,
      ...(options.maxBodySize === undefined ? {} : { maxBodySize: options.maxBodySize }),
    }),
  );
  return { handler, calls };
}

const callback = (marker: string, fields: Record<string, unknown>) =>
  delivery(url("greet", `?callback=${marker}`), {
    status: 200,
    sourceMessageId: "msg_src",
    sourceBody: b64(JSON.stringify({ name: "Ada" })),
    ...fields,
  });

// One line per failed delivery: error when the app's code or setup failed, warn when the
// request was refused or the job gave a verdict (non-retryable, retry later).
const failures: [string, () => Request, string, RegExp, { maxBodySize?: number; keys?: boolean }?][] = [
  [
    "a NonRetryableError",
    () => delivery(url("fail"), { mode: "nonretryable" }),
    "warn",
    /^\[jobstash fail msg_test\]: 489 NON_RETRYABLE: the address bounced$/,
  ],
  [
    "a RetryAfterError",
    () => delivery(url("fail"), { mode: "retry-seconds" }),
    "warn",
    /^\[jobstash fail msg_test\]: 429 RETRY_AFTER: slow down \(retry in 30 s\)$/,
  ],
  [
    "any other throw",
    () => delivery(url("fail"), { mode: "throw" }),
    "error",
    /^\[jobstash fail msg_test\]: 500 JOB_FAILED: job threw$/,
  ],
  [
    "a timeout",
    () => delivery(url("slow"), {}),
    "error",
    /^\[jobstash slow msg_test\]: 500 TIMEOUT: job "slow" timed out after 50 ms$/,
  ],
  [
    "an input that fails the schema",
    () => delivery(url("greet"), { name: "" }),
    "warn",
    /^\[jobstash greet msg_test\]: 489 INVALID_PAYLOAD: the input of job "greet" does not match the schema - name: .+$/,
  ],
  [
    "a body that is not JSON",
    () => delivery(url("greet"), undefined, { raw: "{" }),
    "warn",
    /: 489 INVALID_JSON: the body is not valid UTF-8 JSON$/,
  ],
  [
    "an output that fails the output schema",
    () => delivery(url("bad-output"), {}),
    "warn",
    /: 489 INVALID_OUTPUT: the output of job "bad-output" does not match the schema - count: /,
  ],
  [
    "an unknown job",
    () => delivery(url("nope"), {}),
    "warn",
    /^\[jobstash nope msg_test\]: 489 UNKNOWN_JOB: no job "nope" here/,
  ],
  [
    "a callback that is no callback",
    () => callback("success", { status: "200" }),
    "warn",
    /: 489 INVALID_CALLBACK: /,
  ],
  [
    "an output the dev server cut",
    () => callback("success", { body: b64("{"), jobstashBodyTruncated: { size: 20, kept: 1 } }),
    "warn",
    /: 489 OUTPUT_TRUNCATED: onSuccess of job "greet" cannot run: the job's output \(20 bytes\) was cut/,
  ],
  ["an unknown callback marker", () => callback("maybe", {}), "warn", /: 489 BAD_CALLBACK: /],
  [
    "a missing signature",
    () => new Request(url("greet"), { method: "POST", body: "{}" }),
    "warn",
    /^\[jobstash greet \?\]: 401 UNAUTHORIZED: missing Upstash-Signature/,
  ],
  [
    "a signature from another key",
    () => delivery(url("greet"), { name: "Ada" }, { sign: { key: "sig_other" } }),
    "warn",
    /: 401 UNAUTHORIZED: signature does not match/,
  ],
  [
    "a token for another URL",
    () =>
      new Request(url("greet"), {
        method: "POST",
        body: "{}",
        headers: { "upstash-signature": sign({ url: url("fail"), body: "{}" }) },
      }),
    "warn",
    /: 401 URL_MISMATCH: signature is for another URL/,
  ],
  ["a GET", () => new Request(url("greet")), "warn", /^jobstash: 405 METHOD_NOT_ALLOWED: GET is not allowed/],
  [
    "a body over maxBodySize",
    () => delivery(url("greet"), { name: "Ada" }),
    "warn",
    /: 413 PAYLOAD_TOO_LARGE: /,
    { maxBodySize: 4 },
  ],
  [
    "missing signing keys",
    () => delivery(url("greet"), { name: "Ada" }),
    "error",
    /: 500 CONFIG: no signing keys/,
    { keys: false },
  ],
];

describe("the receiver's log", () => {
  it.each(failures)("%s: one line at the right level", async (_case, request, level, line, options) => {
    const { handler, calls } = receiver(options);
    const response = await handler(request());
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(calls.map(([logged]) => logged)).toEqual([level]);
    expect(calls[0]![1]).toMatch(line);
    expect(String(calls[0]![1])).not.toMatch(/\n\s+at /);
  });

  it("hands the logger a stack only for a throw of the app's own code", async () => {
    for (const [name, request, , , options] of failures) {
      const { handler, calls } = receiver(options);
      await handler(request());
      const extras = calls.flatMap(([, , ...values]) => values);
      if (name === "any other throw") expect(extras).toEqual([expect.any(TypeError)]);
      else expect(extras, name).toEqual([]);
    }
  });

  it("says nothing when the delivery succeeded or a callback needs no work", async () => {
    const { handler, calls } = receiver();
    for (const request of [
      delivery(url("greet"), { name: "Ada" }),
      callback("success", { status: 500, body: b64("{}") }),
      callback("success", { body: b64(JSON.stringify({ greeting: "hello Ada" })) }),
    ]) {
      expect((await handler(request)).status).toBe(200);
    }
    expect(calls).toEqual([]);
  });

  it("writes one line, not two, when onSuccess's output schema rejects the job's JSON", async () => {
    const job = defineJob({
      id: "strict",
      input: z.object({}),
      output: z.object({ at: z.date() }),
      run: () => ({ at: new Date() }),
      onSuccess: () => {},
    });
    const { calls, logger } = recordingLogger();
    const handler = createHandler(
      createJobstash({ app: "t", jobs: [job], baseUrl: BASE, signingKeys: KEYS, env: {}, logger }),
    );
    const response = await handler(
      delivery(url("strict", "?callback=success"), {
        status: 200,
        body: b64(JSON.stringify({ at: "2024-01-01T00:00:00.000Z" })),
        sourceBody: b64("{}"),
      }),
    );
    expect(response.status).toBe(489);
    expect(calls).toEqual([
      ["warn", expect.stringMatching(/489 INVALID_OUTPUT: onSuccess of job "strict" cannot run/)],
    ]);
  });
});
