import { createJobstash, defineJob } from "jobstash";
import { createTestJobstash, TestHarnessError } from "jobstash/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { harness, quietLogger } from "./helpers.js";

// Misuse gets a plain error with a code and a message that says what to do.
const START = Date.parse("2026-03-29T00:30:00Z");
const failing = defineJob({
  id: "failing",
  input: z.object({ n: z.number() }),
  retries: 5,
  run() {
    throw new Error("down");
  },
});
const registry = () => createJobstash({ app: "acme", jobs: [failing], logger: quietLogger() });

describe("bad use", () => {
  it("names the known jobs when given an unknown one", async () => {
    const t = harness(registry());
    const unknown = {
      code: "UNKNOWN_JOB",
      message: expect.stringContaining('unknown job "nope"; known jobs: failing'),
    };
    await expect(t.trigger("nope" as never, { n: 1 } as never)).rejects.toMatchObject(unknown);
    await expect(t.batch([{ id: "nope", input: { n: 1 } } as never])).rejects.toMatchObject(unknown);
    expect(() => t.runs("nope" as never)).toThrow(expect.objectContaining(unknown));
    expect(() => t.dlq("nope" as never)).toThrow(expect.objectContaining(unknown));
    expect(() => t.message("msg_nope")).toThrow(expect.objectContaining({ code: "UNKNOWN_MESSAGE" }));
    expect(() => t.cancel("msg_nope")).toThrow(expect.objectContaining({ code: "UNKNOWN_MESSAGE" }));
  });

  it("refuses a negative or unparsable duration, and a bad start time", async () => {
    const t = harness(registry(), { now: START });
    for (const bad of [-1, "-5m", "soon", "10 minutes", Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(t.advance(bad as never), String(bad)).rejects.toMatchObject({
        name: "TestHarnessError",
        code: "BAD_ARGUMENT",
        message: expect.stringContaining("advance() takes a duration of 0 or more"),
      });
    }
    await expect(t.drain({ horizon: "forever" as never })).rejects.toMatchObject({ code: "BAD_ARGUMENT" });
    expect(t.now()).toEqual(new Date(START));
    expect(() => createTestJobstash(registry(), { now: "yesterday" })).toThrow(
      expect.objectContaining({ code: "BAD_ARGUMENT", message: expect.stringContaining("now must be") }),
    );
    expect(() => createTestJobstash(registry(), { attemptTimeout: "-1s" as never })).toThrow(
      expect.objectContaining({ code: "BAD_ARGUMENT", message: expect.stringContaining("attemptTimeout") }),
    );
  });

  it("stops a drain at its horizon, saying what is still pending and why", async () => {
    const t = harness(registry(), { now: START });
    const id = await t.trigger("failing", { n: 1 });
    const error = await t.drain({ horizon: "1h" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestHarnessError);
    // Retries 1 to 3 fall within the hour (12 s, 2.5 min and 30 min apart); the 4th is 6 h later.
    expect(error).toMatchObject({
      code: "DRAIN_HORIZON",
      pending: [
        {
          messageId: id,
          jobId: "failing",
          state: "retry",
          reason: expect.stringMatching(/^retry 4 of 5 due at 2026-03-29T07:09:/),
          dueAt: expect.any(Date),
        },
      ],
    });
    expect((error as Error).message).toContain(`${id} (job "failing"): retry 4 of 5 due at`);
    expect((error as Error).message).toContain("pass drain({ horizon })");
    expect(t.runs("failing")).toHaveLength(4);
    // The default horizon (30 days) covers the rest.
    await t.drain();
    expect(t.dlq("failing")).toHaveLength(1);
  });

  it("refuses a second step while one runs, and any use after close", async () => {
    const t = createTestJobstash(registry());
    await t.trigger("failing", { n: 1 });
    const first = t.drain();
    await expect(t.advance("1s")).rejects.toMatchObject({ code: "BUSY" });
    await first;
    await t.close();
    await t.close();
    const closed = { code: "CLOSED", message: expect.stringContaining("closed") };
    await expect(t.trigger("failing", { n: 1 })).rejects.toMatchObject(closed);
    await expect(t.drain()).rejects.toMatchObject(closed);
    // What happened stays readable.
    expect(t.runs("failing")).toHaveLength(6);
  });
});
