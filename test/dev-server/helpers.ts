import http from "node:http";
import type { AddressInfo } from "node:net";
import { Receiver } from "@upstash/qstash";
import { DEV_USERS } from "jobstash/dev-server";

export interface Delivery {
  method: string;
  /** Full URL the delivery was sent to. */
  url: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the official Receiver accepted the signature (with `sub` checked). */
  verified: boolean;
  verifyError?: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface TestReceiver {
  url: string;
  deliveries: Delivery[];
  /** Resolves once `n` deliveries (optionally matching `filter`) arrived; rejects after `ms`. */
  waitFor(n: number, filter?: (d: Delivery) => boolean, ms?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

/**
 * A local endpoint that verifies every delivery with the official `Receiver` (against the dev
 * users' keys) and answers with whatever `reply` returns (200 by default).
 */
export async function startReceiver(
  reply: (d: Delivery) => Reply | Promise<Reply> = () => ({}),
  users: { currentSigningKey: string; nextSigningKey: string }[] = Object.values(DEV_USERS),
): Promise<TestReceiver> {
  const receivers = users.map(
    (u) => new Receiver({ currentSigningKey: u.currentSigningKey, nextSigningKey: u.nextSigningKey }),
  );
  const deliveries: Delivery[] = [];
  const waiters = new Set<() => void>();
  let base = "";
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const d: Delivery = {
        method: req.method ?? "",
        url: base + (req.url ?? ""),
        path: req.url ?? "",
        headers: req.headers,
        body,
        verified: false,
      };
      // Verified when the keys of one of the users accept it (each test picks its user).
      for (const receiver of receivers) {
        try {
          await receiver.verify({ signature: String(req.headers["upstash-signature"]), body, url: d.url });
          d.verified = true;
          break;
        } catch (error) {
          d.verifyError = (error as Error).message;
        }
      }
      const r = await reply(d);
      deliveries.push(d);
      res.writeHead(r.status ?? 200, r.headers);
      res.end(r.body ?? "ok");
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    deliveries,
    waitFor(n, filter = () => true, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = deliveries.filter(filter);
          if (got.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(got);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${n} deliveries; got ${deliveries.filter(filter).length}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => T | Promise<T>, ms = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((r) => setTimeout(r, 10));
  }
}
