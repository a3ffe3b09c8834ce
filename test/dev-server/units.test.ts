import { describe, expect, it } from "vitest";
import { nextCronTime } from "../../src/dev-server/engine/cron.js";
import { compileRetryDelay } from "../../src/dev-server/engine/expression.js";
import { type Timed, TimerHeap } from "../../src/dev-server/engine/heap.js";
import { canonicalHeaderName, parseFlowControlValue } from "../../src/dev-server/engine/message-config.js";
import { defaultBackoffMs, retryAfterMs } from "../../src/dev-server/engine/retry.js";

describe("retry-delay expressions", () => {
  it("evaluates the documented examples", () => {
    expect(compileRetryDelay("1000")(5)).toBe(1000);
    expect(compileRetryDelay("1000 * (1 + retried)")(2)).toBe(3000);
    expect(compileRetryDelay("pow(2, retried) * 1000")(3)).toBe(8000);
    expect(compileRetryDelay("max(1000, pow(2, retried) * 100)")(0)).toBe(1000);
    expect(
      compileRetryDelay("min(sqrt(16), abs(-3)) + floor(1.7) + ceil(0.2) + round(2.5) - exp(0)")(0),
    ).toBe(3 + 1 + 1 + 3 - 1);
    expect(compileRetryDelay("-5")(0)).toBe(0);
  });

  it("rejects anything that is not arithmetic, without evaluating it", () => {
    for (const bad of [
      "",
      "process.exit(1)",
      "retried +",
      "pow(2)",
      "1000 ; 2",
      "(1",
      "foo(1)",
      "1 ** 2",
      "`x`",
    ]) {
      expect(() => compileRetryDelay(bad), bad).toThrow(/Upstash-Retry-Delay/);
    }
  });
});

describe("retry timing", () => {
  it("follows min(86400, e^(2.5n)) seconds", () => {
    expect(Math.round(defaultBackoffMs(1) / 1000)).toBe(12);
    expect(Math.round(defaultBackoffMs(2) / 1000)).toBe(148);
    expect(Math.round(defaultBackoffMs(3) / 1000)).toBe(1808);
    expect(Math.round(defaultBackoffMs(4) / 1000)).toBe(22026);
    expect(defaultBackoffMs(5)).toBe(86_400_000);
  });

  it("reads the Retry-After family: seconds, dates, Go durations, capped at a day", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs({ "retry-after": "30" }, now)).toBe(30_000);
    expect(retryAfterMs({ "retry-after": "0" }, now)).toBe(0);
    expect(retryAfterMs({ "retry-after": "Thu, 01 Jan 2026 00:01:00 GMT" }, now)).toBe(60_000);
    expect(retryAfterMs({ "x-ratelimit-reset": "6m5s" }, now)).toBe(365_000);
    expect(retryAfterMs({ "x-ratelimit-reset-tokens": "1500ms" }, now)).toBe(1500);
    expect(retryAfterMs({ "retry-after": "86401" }, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
  });
});

describe("header and flow-control parsing", () => {
  it("canonicalises names as Go does", () => {
    expect(canonicalHeaderName("bypass-tunnel-reminder")).toBe("Bypass-Tunnel-Reminder");
    expect(canonicalHeaderName("CONTENT-TYPE")).toBe("Content-Type");
  });
  it("parses flow-control values leniently and rejects bad ones", () => {
    expect(parseFlowControlValue("k", "parallelism=2, rate=10, period=1m")).toEqual({
      key: "k",
      parallelism: 2,
      rate: 10,
      period: 60,
    });
    expect(parseFlowControlValue("k", "rate=5,period=30")).toEqual({ key: "k", rate: 5, period: 30 });
    expect(() => parseFlowControlValue("k", "")).toThrow(/parallelism and\/or rate/);
    expect(() => parseFlowControlValue("k", "parallelism=0")).toThrow(/at least 1/);
    expect(() => parseFlowControlValue("k", "burst=3")).toThrow(/unknown/);
    expect(() => parseFlowControlValue("k", "rate=1, period=forever")).toThrow(/period/);
  });
});

describe("cron fire times", () => {
  // QStash reads a cron without CRON_TZ in UTC; the machine's own zone must not leak in.
  it("reads a cron without a zone in UTC, whatever the process's zone", () => {
    const saved = process.env.TZ;
    process.env.TZ = "America/New_York";
    try {
      const after = Date.UTC(2025, 0, 1, 0, 0);
      expect(new Date(nextCronTime("0 9 * * *", after)).toISOString()).toBe("2025-01-01T09:00:00.000Z");
      expect(new Date(nextCronTime("CRON_TZ=Europe/Paris 0 9 * * *", after)).toISOString()).toBe(
        "2025-01-01T08:00:00.000Z",
      );
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe("timer heap", () => {
  it("pops in time order, ties in insertion order, and supports removal", () => {
    const heap = new TimerHeap<Timed & { name: string }>();
    const mk = (name: string) => ({ name, at: 0, seq: 0, heapIndex: -1 });
    const items = ["a", "b", "c", "d", "e"].map(mk);
    heap.push(items[0]!, 50);
    heap.push(items[1]!, 10);
    heap.push(items[2]!, 30);
    heap.push(items[3]!, 10);
    heap.push(items[4]!, 20);
    heap.remove(items[2]!);
    const order: string[] = [];
    for (let t = heap.pop(); t; t = heap.pop()) order.push(t.name);
    expect(order).toEqual(["b", "d", "e", "a"]);
  });
});
