import type { LifecycleEvent } from "jobstash/dev-server";
import { describe, expect, it } from "vitest";
import { formatEvent } from "../../src/cli/dev.js";
import { responseReason } from "../../src/dev-server/engine/reason.js";

const at = Date.parse("2026-12-01T12:00:00.000Z");
const url = "http://127.0.0.1:3000/api/jobs/send";

function event(fields: Partial<LifecycleEvent>): LifecycleEvent {
  return {
    time: at,
    userId: "defaultUser",
    messageId: "msg_1",
    state: "ERROR",
    url,
    retried: 0,
    maxRetries: 3,
    ...fields,
  };
}

const body = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));

describe("formatEvent", () => {
  it("ends a failure's line with its reason", () => {
    const reason = responseReason(body({ error: { code: "NON_RETRYABLE", message: "address bounced" } }));
    expect(formatEvent(event({ state: "FAILED", status: 489, reason }))).toBe(
      `12:00:00.000 FAILED           msg_1 → ${url} (489, retried 0/3): address bounced`,
    );
    expect(
      formatEvent(
        event({ state: "RETRY", status: 500, nextDeliveryTime: at + 12_000, reason: "Error: boom" }),
      ),
    ).toBe(
      `12:00:00.000 RETRY            msg_1 → ${url} (500, retried 0/3, next at 12:00:12, in 12s): Error: boom`,
    );
    // No answer at all: the network error is the reason, as before.
    expect(formatEvent(event({ error: "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:3000" }))).toBe(
      `12:00:00.000 ERROR            msg_1 → ${url} (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:3000, retried 0/3)`,
    );
  });

  it("says when a delayed message runs", () => {
    const created = (notBefore?: number) => formatEvent(event({ state: "CREATED", notBefore }));
    expect(created(at + 30_000)).toBe(
      `12:00:00.000 CREATED          msg_1 → ${url} (delayed until 12:00:30, in 30s)`,
    );
    expect(created(at + 5_400_000 + 15_000)).toContain("(delayed until 13:30:15, in 1h 30m)");
    expect(created(at + 2 * 86_400_000 + 3_600_000)).toContain(
      "(delayed until 2026-12-03 13:00:00, in 2d 1h)",
    );
    expect(created(at + 450)).toContain("(delayed until 12:00:00, in 450ms)");
    expect(created(undefined)).toBe(`12:00:00.000 CREATED          msg_1 → ${url}`);
  });

  it("says when the server cut a response body", () => {
    const line = formatEvent(
      event({
        state: "DELIVERED",
        status: 200,
        responseBody: new Uint8Array(1024 * 1024),
        truncatedFrom: 3 * 1024 * 1024 + 512 * 1024,
      }),
    );
    expect(line).toBe(
      `12:00:00.000 DELIVERED        msg_1 → ${url} (200, retried 0/3, response cut to 1 MiB of 3.5 MiB)`,
    );
  });
});

describe("responseReason", () => {
  it("reads jobstash's error message, with its first issue", () => {
    expect(
      responseReason(
        body({
          error: {
            code: "INVALID_PAYLOAD",
            message: "the job's input does not match the schema",
            issues: [
              { path: "email", message: "Invalid email address" },
              { path: "name", message: "Required" },
            ],
          },
        }),
      ),
    ).toBe("the job's input does not match the schema (email: Invalid email address, +1 more)");
  });

  it("reads other servers' error or message strings, else shows a one-line excerpt", () => {
    expect(responseReason(body({ error: "rate limited" }))).toBe("rate limited");
    expect(responseReason(body({ message: "Not Found", statusCode: 404 }))).toBe("Not Found");
    expect(responseReason(body({ ok: false }))).toBe('{"ok":false}');
    expect(responseReason(body("Internal Server Error\n\n  at handler (app.js:10)\n"))).toBe(
      "Internal Server Error at handler (app.js:10)",
    );
    expect(responseReason(body("\u001b[31mred\u001b[0m\u0007"))).toBe("[31mred[0m");
    const long = responseReason(body(`<html><body>${"x".repeat(500)}</body></html>`))!;
    expect(long).toHaveLength(160);
    expect(long.endsWith("…")).toBe(true);
    expect(responseReason(body(""))).toBeUndefined();
    expect(responseReason(body(" \n "))).toBeUndefined();
    expect(responseReason(undefined)).toBeUndefined();
  });

  it("excerpts a large body without parsing it", () => {
    const big = body({ error: { message: "x" }, pad: "y".repeat(100 * 1024) });
    expect(responseReason(big)).toMatch(/^\{"error":\{"message":"x"\},"pad":"y+…$/);
  });
});
