import { Client } from "@upstash/qstash";
import { createDevServer, DEV_USERS, type DevServer, VirtualClock } from "jobstash/dev-server";
import { afterAll, beforeAll, expect, vi } from "vitest";

/**
 * The QStash side of an end-to-end test: the jobstash dev server in this process on a real
 * port, on a {@link VirtualClock}, and the official `Client` to read its DLQ and logs.
 *
 * One virtual clock serves in-process apps and apps in another process alike: deliveries go
 * over real HTTP and `clock.advance` waits for them to be answered, so backoff and cron ticks
 * take no wall time wherever the receiver runs. The clock starts at the real time and only
 * moves forward, so the signatures' `exp` (virtual `iat` + 300 s) stays valid for a receiver
 * that checks it against its own real clock.
 */
export interface Harness {
  clock: VirtualClock;
  qstash: DevServer;
  /** The dev server's URL. */
  url: string;
  client: Client;
  /** What a deployment sets, except JOBSTASH_BASE_URL (which depends on where the app listens). */
  env: {
    QSTASH_URL: string;
    QSTASH_TOKEN: string;
    QSTASH_CURRENT_SIGNING_KEY: string;
    QSTASH_NEXT_SIGNING_KEY: string;
  };
  /**
   * Poll `check` until it returns something truthy, moving virtual time by `stepMs` between
   * looks and giving the event loop a real turn each time (an app in a child process reports
   * through a pipe). Fails after `timeoutMs` of real time with `output()` in the message.
   */
  until<T>(
    what: string,
    check: () => T | undefined | false | Promise<T | undefined | false>,
    options?: { stepMs?: number; timeoutMs?: number },
  ): Promise<T>;
  close(): Promise<void>;
}

export async function startHarness(options: {
  output: () => string[];
  retryScale?: number;
}): Promise<Harness> {
  const user = DEV_USERS.defaultUser;
  const clock = new VirtualClock(Date.now());
  // A small retry scale keeps a job that exhausts its retries within a few virtual seconds.
  const qstash = createDevServer({ clock, retryScale: options.retryScale ?? 0.01 });
  const { url } = await qstash.listen({ port: 0, hostname: "127.0.0.1" });
  return {
    clock,
    qstash,
    url,
    client: new Client({ baseUrl: url, token: user.token }),
    env: {
      QSTASH_URL: url,
      QSTASH_TOKEN: user.token,
      QSTASH_CURRENT_SIGNING_KEY: user.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: user.nextSigningKey,
    },
    async until(what, check, { stepMs = 1_000, timeoutMs = 10_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) {
          throw new Error(`never happened within ${timeoutMs} ms: ${what}\n${options.output().join("\n")}`);
        }
        await clock.advance(stepMs);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    },
    close: () => qstash.close(),
  };
}

/** The first line matching `pattern`, for `until`. */
export const lineIn = (lines: () => string[], pattern: RegExp) => () => lines().find((l) => pattern.test(l));

/**
 * A message a job failed non-retryably: it reached the DLQ with the 489 and the error text,
 * after exactly one attempt and no retry.
 */
export async function expectDeadLetteredOnce(harness: Harness, messageId: string, errorText: string) {
  const dlq = await harness.until(
    "DLQ entry",
    async () => (await harness.client.dlq.listMessages({ filter: { messageId } })).messages[0],
  );
  expect(dlq.responseStatus).toBe(489);
  expect(dlq.responseBody).toContain(errorText);
  const { logs } = await harness.client.logs({ filter: { messageId } });
  expect(logs.filter((log) => log.state === "RETRY")).toEqual([]);
  expect(logs.filter((log) => log.state === "ACTIVE")).toHaveLength(1);
}

/** Collect what the example's hooks write through console (the receiver's default logger). */
export function captureConsole(): string[] {
  const lines: string[] = [];
  beforeAll(() => {
    for (const level of ["info", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
  });
  afterAll(() => vi.restoreAllMocks());
  return lines;
}
