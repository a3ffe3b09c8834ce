// The README's "Testing jobs" example, jobs.test.ts as written there: it must run as shown.
import { createTestJobstash } from "jobstash/testing";
import { expect, it, onTestFinished, vi } from "vitest";
import { jobs } from "./fixtures/jobs";
import { db, mail } from "./fixtures/services";

function harness() {
  const t = createTestJobstash(jobs, { now: "2026-03-28T00:30:00Z" });
  onTestFinished(() => t.close());
  return t;
}

it("retries a failed send with QStash's backoff", async () => {
  const t = harness();
  vi.spyOn(mail, "send")
    .mockRejectedValueOnce(new Error("SMTP 421"))
    .mockRejectedValueOnce(new Error("SMTP 421"))
    .mockResolvedValue("250 OK");
  await t.trigger("send-welcome", { userId: "u1", email: "a@b.co" });
  await t.drain();

  const runs = t.runs("send-welcome");
  expect(runs.map((r) => r.outcome)).toEqual(["retry", "retry", "success"]);
  expect(runs.map((r) => r.time.toISOString())).toEqual([
    "2026-03-28T00:30:00.000Z",
    "2026-03-28T00:30:12.182Z", // QStash's backoff: e^2.5 s, then e^5 s
    "2026-03-28T00:32:40.595Z",
  ]);
  expect(runs[0]!.error).toEqual({ status: 500, code: "JOB_FAILED", message: "Error: SMTP 421" });
  expect(runs[2]!.output).toEqual({ sent: "250 OK" });
});

it("sends a bounced address to onFailure and the DLQ, without retrying", async () => {
  const t = harness();
  const mark = vi.spyOn(db, "markUndeliverable");
  await t.trigger("send-welcome", { userId: "u2", email: "x@bounce.test" });
  await t.drain();

  expect(t.runs("send-welcome").map((r) => [r.status, r.outcome])).toEqual([[489, "failed"]]);
  expect(t.dlq("send-welcome")).toMatchObject([
    { input: { userId: "u2", email: "x@bounce.test" }, reason: "address bounced" },
  ]);
  expect(mark).toHaveBeenCalledExactlyOnceWith("u2", "address bounced");
});

it("runs the nightly report at 09:00 in Paris, across the switch to summer time", async () => {
  const t = harness();
  await t.advance("2d");
  expect(t.runs("nightly-report").map((r) => r.time.toISOString())).toEqual([
    "2026-03-28T08:00:00.000Z", // 09:00 CET
    "2026-03-29T07:00:00.000Z", // 09:00 CEST
  ]);
});

it("holds a delayed welcome until its time", async () => {
  const t = harness();
  const id = await t.trigger("send-welcome", { userId: "u3", email: "c@d.co" }, { delay: "10m" });
  await t.advance("9m");
  expect(t.message(id)).toMatchObject({ state: "delayed", dueAt: new Date("2026-03-28T00:40:00Z") });
  await t.advance("1m");
  expect(t.message(id).state).toBe("delivered");
});
