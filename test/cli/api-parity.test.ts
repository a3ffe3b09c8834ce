import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  deleteDlq,
  getDlq,
  listDlq,
  listLogs,
  listSchedules,
  retryDlq,
  signingKeys,
} from "../../src/cli/api.js";

/**
 * The CLI calls QStash's DLQ, log, schedule and key APIs through the publisher's own sender
 * (src/cli/api.ts), not through the official Client. Each call here goes out through both, to
 * a server that records them, and the two requests must be the same: method, path with its
 * query (keys, order, repeats), body and headers (but the SDK's telemetry and fetch's own).
 */

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const requests: Recorded[] = [];
let url = "";
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    requests.push({ method: req.method!, path: req.url!, headers: req.headers, body });
    const path = req.url!.split("?")[0];
    // Enough of each answer for both sides to read it.
    const reply =
      path === "/v2/events"
        ? { events: [] }
        : path === "/v2/dlq" && req.method === "GET"
          ? { messages: [] }
          : path === "/v2/dlq" && req.method === "DELETE"
            ? { deleted: 2 }
            : path === "/v2/dlq/retry"
              ? { responses: [{ messageId: "msg_1" }] }
              : path === "/v2/schedules"
                ? []
                : path === "/v2/keys"
                  ? { current: "sig_a", next: "sig_b" }
                  : {};
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
  });
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests.length = 0;
});

const token = "parity-token";
const client = () => new Client({ baseUrl: url, token, enableTelemetry: false });
const target = () => ({ url, token });

function wire(r: Recorded) {
  const headers = Object.fromEntries(
    Object.entries(r.headers).filter(
      ([name]) =>
        !/^(host|connection|content-length|user-agent|accept|accept-encoding|accept-language|sec-fetch-mode)$/.test(
          name,
        ) && !name.startsWith("upstash-telemetry-"),
    ),
  );
  return { method: r.method, path: r.path, headers, body: r.body };
}

/** Send the same call through the Client and through the CLI's, and compare the requests. */
async function same(sdk: () => Promise<unknown>, ours: () => Promise<unknown>): Promise<Recorded> {
  requests.length = 0;
  await sdk();
  await ours();
  expect(requests).toHaveLength(2);
  const [a, b] = requests.map(wire);
  expect(b).toEqual(a);
  return requests[1]!;
}

const jobUrl = "https://app.example.com/api/jobs/send-email";
const urls = [jobUrl, `${jobUrl}?callback=success`, `${jobUrl}?callback=failure`];

describe("the CLI's QStash calls match the official Client's on the wire", () => {
  it("dlq list: a page, with filters (several values for one) and a cursor", async () => {
    const r = await same(
      () =>
        client().dlq.listMessages({
          count: 100,
          filter: { url: urls, fromDate: 1_700_000_000_000 },
          cursor: "200",
        }),
      () =>
        listDlq(target(), { count: 100, filter: { url: urls, fromDate: 1_700_000_000_000 }, cursor: "200" }),
    );
    expect(r.path).toMatch(
      /^\/v2\/dlq\?count=100&url=https%3A%2F%2F.*&url=.*&url=.*&fromDate=1700000000000&cursor=200$/,
    );
    await same(
      () => client().dlq.listMessages({ count: 100 }),
      () => listDlq(target(), { count: 100 }),
    );
  });

  it("dlq show: entries by id", async () => {
    await same(
      () => client().dlq.listMessages({ dlqIds: ["1-0", "1-1"] }),
      () => getDlq(target(), ["1-0", "1-1"]),
    );
  });

  it("dlq retry and delete: entries by id", async () => {
    const retried = await same(
      () => client().dlq.retry(["1-0", "1-1"]),
      () => retryDlq(target(), ["1-0", "1-1"]),
    );
    expect(retried).toMatchObject({ method: "POST", path: "/v2/dlq/retry?dlqIds=1-0&dlqIds=1-1" });
    const deleted = await same(
      () => client().dlq.delete(["1-0", "1-1"]),
      () => deleteDlq(target(), ["1-0", "1-1"]),
    );
    expect(deleted).toMatchObject({ method: "DELETE", path: "/v2/dlq?dlqIds=1-0&dlqIds=1-1" });
  });

  it("logs: a page, with a message id, a state, URLs, a start time and a cursor", async () => {
    const filter = { messageId: "msg_1", state: "FAILED" as const, url: urls, fromDate: 1_700_000_000_000 };
    const r = await same(
      () => client().logs({ count: 1000, filter, cursor: "1700000000000-3" }),
      () => listLogs(target(), { count: 1000, filter, cursor: "1700000000000-3" }),
    );
    expect(r.path).toMatch(/^\/v2\/events\?count=1000&messageId=msg_1&state=FAILED&url=/);
  });

  it("schedules and the signing keys", async () => {
    await same(
      () => client().schedules.list(),
      () => listSchedules(target()),
    );
    const keys = await same(
      () => client().http.request({ path: ["v2", "keys"], method: "GET" }),
      () => signingKeys(target()),
    );
    expect(keys).toMatchObject({ method: "GET", path: "/v2/keys" });
  });
});
