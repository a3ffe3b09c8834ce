import { type AnyJob, createHandler, createJobstash, defineJob } from "jobstash";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { BASE, createFixture } from "../helpers/fixture.js";
import { waitFor } from "../helpers/process.js";
import { delivery, KEYS } from "../helpers/sign.js";

const url = (id: string, query = "") => `${BASE}/${id}${query}`;
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const never = () => new Promise<never>(() => {});

/** A promise the test settles by hand. */
function latch() {
  let resolve!: (value: unknown) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** The handler's answer, or a failure if none comes within `ms` (the old receiver never answered). */
async function answer(pending: Promise<Response>, ms = 5_000): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([pending, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

let signals: AbortSignal[] = [];
let finish = latch();

// Each ignores ctx.signal: only the receiver's own timer can answer for it.
const hang = defineJob({
  id: "hang",
  input: z.object({}),
  timeout: "100ms",
  run: (_input, ctx) => {
    signals.push(ctx.signal);
    return never();
  },
  onSuccess: never,
  onFailure: never,
});
const late = defineJob({
  id: "late",
  input: z.object({}),
  timeout: "100ms",
  run: () => finish.promise,
});
const quick = defineJob({ id: "quick", input: z.object({}), run: () => ({ ok: true }) });
const distant = defineJob({
  id: "distant",
  input: z.object({}),
  timeout: "30d",
  run: () => new Promise((resolve) => setTimeout(() => resolve({ ok: true }), 5)),
});

function receiver(jobs: AnyJob[]) {
  const logs: string[] = [];
  const line = (level: string) => (message: string) => logs.push(`${level} ${message}`);
  const handler = createHandler(
    createJobstash({
      app: "t",
      jobs,
      baseUrl: BASE,
      signingKeys: KEYS,
      env: {},
      logger: { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") },
    }),
  );
  return { handler, logs };
}

afterEach(() => {
  signals = [];
  finish = latch();
});

describe("a job's timeout", () => {
  it("answers 500 TIMEOUT when it passes, though run ignores ctx.signal and never settles", async () => {
    const { handler, logs } = receiver([hang]);
    const started = performance.now();
    const response = await answer(handler(delivery(url("hang"), {})));
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      error: { code: "TIMEOUT", message: 'job "hang" timed out after 100 ms' },
    });
    expect(signals.map((signal) => [signal.aborted, (signal.reason as Error).name])).toEqual([
      [true, "TimeoutError"],
    ]);
    expect(logs).toEqual(['error [jobstash hang msg_test]: 500 TIMEOUT: job "hang" timed out after 100 ms']);
  });

  it("takes the timeout a trigger forwarded, in place of the job's or where the job has none", async () => {
    const endless = defineJob({ id: "endless", input: z.object({}), run: never });
    const { handler } = receiver([endless, hang]);
    for (const id of ["endless", "hang"]) {
      const response = await answer(
        handler(delivery(url(id), {}, { headers: { "jobstash-timeout": "50" } })),
      );
      expect((await response.json()).error).toEqual({
        code: "TIMEOUT",
        message: `job "${id}" timed out after 50 ms`,
      });
    }
  });

  it.each([
    ["onSuccess", "success", 200],
    ["onFailure", "failure", 500],
  ])("holds for %s too", async (hook, marker, status) => {
    const { handler } = receiver([hang]);
    const callback = { status, body: "", sourceBody: b64("{}"), sourceMessageId: "msg_src" };
    const response = await answer(handler(delivery(url("hang", `?callback=${marker}`), callback)));
    expect(response.status).toBe(500);
    expect((await response.json()).error).toEqual({
      code: "TIMEOUT",
      message: `${hook} of job "hang" timed out after 100 ms`,
    });
  });

  it("logs a late result once, and ignores it", async () => {
    const { handler, logs } = receiver([late]);
    const response = await answer(handler(delivery(url("late"), {})));
    expect(response.status).toBe(500);
    finish.resolve({ done: true });
    await waitFor("the late result's line", async () => logs.length === 2, 5_000);
    expect(logs).toEqual([
      'error [jobstash late msg_test]: 500 TIMEOUT: job "late" timed out after 100 ms',
      'warn [jobstash late msg_test]: job "late" finished after its timeout; its result was ignored',
    ]);
  });

  it("logs a late failure once, and never as an unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const { handler, logs } = receiver([late]);
      expect((await answer(handler(delivery(url("late"), {})))).status).toBe(500);
      finish.reject(new TypeError("too late"));
      await waitFor("the late failure's line", async () => logs.length === 2, 5_000);
      // A macrotask later, an unhandled rejection would have been reported.
      await new Promise((resolve) => setImmediate(resolve));
      expect(logs[1]).toBe(
        'warn [jobstash late msg_test]: job "late" failed after its timeout (ignored): TypeError: too late',
      );
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("adds no late line when run stops on ctx.signal as asked", async () => {
    const { handler, logs, seen } = createFixture();
    const response = await answer(handler(delivery(url("slow"), {})));
    expect((await response.json()).error.code).toBe("TIMEOUT");
    expect(seen.aborted).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs).toEqual(['error [jobstash slow msg_test]: 500 TIMEOUT: job "slow" timed out after 50 ms']);
  });

  it("beyond setTimeout's range (30d) does not fire at once", async () => {
    const { handler } = receiver([distant]);
    const response = await answer(handler(delivery(url("distant"), {})));
    expect([response.status, await response.json()]).toEqual([200, { ok: true }]);
  });

  it("costs a job without one no timer and no AbortController", async () => {
    const { handler } = receiver([quick]);
    const request = delivery(url("quick"), {});
    const timers = vi.spyOn(globalThis, "setTimeout");
    const controllers = vi.spyOn(globalThis, "AbortController");
    try {
      expect((await handler(request)).status).toBe(200);
      expect([timers.mock.calls.length, controllers.mock.calls.length]).toEqual([0, 0]);
    } finally {
      timers.mockRestore();
      controllers.mockRestore();
    }
  });
});
