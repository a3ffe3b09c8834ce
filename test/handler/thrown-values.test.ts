import {
  type AnyJob,
  createHandler,
  createJobstash,
  createReplyHandler,
  defineJob,
  type Logger,
  NonRetryableError,
} from "jobstash";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BASE, createFixture, STACK_OR_PATH, UNPRINTABLE, type Unprintable } from "../helpers/fixture.js";
import { waitFor } from "../helpers/process.js";
import { delivery, KEYS } from "../helpers/sign.js";

const url = (id: string, query = "") => `${BASE}/${id}${query}`;
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** One logger function at every level. */
const everyLevel = (write: (line: string, ...values: unknown[]) => void): Logger => ({
  debug: write,
  info: write,
  warn: write,
  error: write,
});
/** A logger that formats its arguments with String(), as many do: it throws on what String() cannot take. */
const stringifying = (lines: string[]) =>
  everyLevel((line, ...values) => lines.push([line, ...values.map(String)].join(" ")));

/** The receiver of a registry holding only `job`. */
const handlerFor = (job: AnyJob, logger: Logger = everyLevel(() => {})) =>
  createHandler(createJobstash({ app: "t", jobs: [job], baseUrl: BASE, signingKeys: KEYS, env: {}, logger }));

/** The delivery of `odd-throw` that reaches run, onSuccess or onFailure with `value`. */
function oddDelivery(where: "run" | "onSuccess" | "onFailure", value: Unprintable): Request {
  if (where === "run") return delivery(url("odd-throw"), { value });
  const sourceBody = b64(JSON.stringify({ value }));
  return where === "onSuccess"
    ? delivery(url("odd-throw", "?callback=success"), { status: 200, body: "", sourceBody })
    : delivery(url("odd-throw", "?callback=failure"), { status: 500, body: "", sourceBody });
}

// What each value is called in the reply: said without running the code that throws.
const described: Record<Unprintable, string> = {
  "null-prototype": "Error: [object with no prototype]",
  "throwing-toString": "Error: [object whose toString throws]",
  "throwing-message": "Error: [message unreadable: reading it throws]",
  "throwing-name": "Error: name unreadable",
  "throwing-proxy": "Error: [object that throws when inspected, such as a Proxy]",
  "throwing-error-proxy": "Error: [object that throws when inspected, such as a Proxy]",
};

describe("a thrown value that cannot be turned into text", () => {
  const cases = (["run", "onSuccess", "onFailure"] as const).flatMap((where) =>
    (Object.keys(UNPRINTABLE) as Unprintable[]).map((value) => [where, value] as const),
  );

  it.each(cases)("from %s (%s) answers the usual JSON 500 and logs one error line", async (where, value) => {
    const { handler, logs } = createFixture();
    const response = await handler(oddDelivery(where, value));
    expect(response.status).toBe(500);
    expect(response.headers.get("content-type")).toBe("application/json");
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "JOB_FAILED", message: described[value] } });
    expect(text).not.toMatch(STACK_OR_PATH);
    expect(logs).toEqual([
      expect.stringMatching(/^error \[jobstash odd-throw msg_test\]: 500 JOB_FAILED: job threw$/),
    ]);
  });

  it("never rejects the reply handler's promise", async () => {
    const { jobs } = createFixture();
    const reply = createReplyHandler(jobs);
    for (const [where, value] of cases) {
      await expect(reply(oddDelivery(where, value))).resolves.toMatchObject({ status: 500 });
    }
  });

  it("a NonRetryableError whose message throws is still non-retryable", async () => {
    const job = defineJob({
      id: "odd-final",
      input: z.object({}),
      run() {
        throw Object.defineProperty(new NonRetryableError("x"), "message", {
          get() {
            throw new Error("message refuses");
          },
        });
      },
    });
    const response = await handlerFor(job)(delivery(url("odd-final"), {}));
    expect(response.status).toBe(489);
    expect((await response.json()).error).toEqual({
      code: "NON_RETRYABLE",
      message: "[message unreadable: reading it throws]",
    });
  });
});

it("an output whose toJSON throws such a value is INVALID_OUTPUT, described", async () => {
  const job = defineJob({
    id: "odd-output",
    input: z.object({}),
    run: () => ({
      toJSON() {
        throw Object.create(null);
      },
    }),
  });
  const response = await handlerFor(job)(delivery(url("odd-output"), {}));
  expect(response.status).toBe(489);
  expect((await response.json()).error).toEqual({
    code: "INVALID_OUTPUT",
    message: 'the output of job "odd-output" cannot be sent as JSON: [object with no prototype]',
  });
});

describe("a logger that throws", () => {
  const boom = defineJob({
    id: "boom",
    input: z.object({ value: z.enum(["null-prototype"]).optional() }),
    run({ value }) {
      throw value ? UNPRINTABLE[value]() : new Error("boom");
    },
  });

  it("cannot change or reject the reply", async () => {
    const handler = handlerFor(
      boom,
      everyLevel(() => {
        throw new Error("the log sink is down");
      }),
    );
    const thrown = await handler(delivery(url("boom"), {}));
    expect([thrown.status, (await thrown.json()).error]).toEqual([
      500,
      { code: "JOB_FAILED", message: "Error: boom" },
    ]);
    const unsigned = await handler(new Request(url("boom"), { method: "POST", body: "{}" }));
    expect(unsigned.status).toBe(401);
  });

  it("that chokes on the thrown value still gets the line, with the value described", async () => {
    const lines: string[] = [];
    const response = await handlerFor(
      boom,
      stringifying(lines),
    )(delivery(url("boom"), { value: "null-prototype" }));
    expect(response.status).toBe(500);
    expect(lines).toEqual([
      "[jobstash boom msg_test]: 500 JOB_FAILED: job threw: Error: [object with no prototype]",
    ]);
  });

  it("cannot turn a background failure into an unhandled rejection", async () => {
    const lines: string[] = [];
    const job = defineJob({
      id: "later",
      input: z.object({}),
      run(_input, ctx) {
        ctx.waitUntil(Promise.reject(Object.create(null)));
      },
    });
    expect((await handlerFor(job, stringifying(lines))(delivery(url("later"), {}))).status).toBe(200);
    await waitFor("the background failure's line", async () => lines.length > 0, 5_000);
    expect(lines).toEqual(["jobstash: background work failed: Error: [object with no prototype]"]);
  });
});
