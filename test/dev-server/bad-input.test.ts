import { createDevServer, DEV_USERS } from "jobstash/dev-server";
import { afterAll, expect, it } from "vitest";

// Junk input must get a 4xx with a message, never a 500, and must not disturb what was accepted.
const server = createDevServer();
afterAll(() => server.close());
const auth = { authorization: `Bearer ${DEV_USERS.defaultUser.token}` };
const json = { ...auth, "content-type": "application/json" };

const cases: [method: string, path: string, headers?: Record<string, string>, body?: string][] = [
  ["POST", "/v2/publish/http://%zz"],
  ["POST", "/v2/publish/http://"],
  ["POST", "/v2/publish/http://127.0.0.1:99999/x"],
  ["POST", "/v2/publish/javascript:alert(1)"],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-retries": "-1" }],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-retries": "1e9" }],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-not-before": "abc" }],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-method": "TRACE" }],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-callback": "nope" }],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-timeout": "1y" }],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-delay": "999999d" }],
  [
    "POST",
    "/v2/publish/http://a.b/x",
    { "upstash-callback": "http://a.b/cb", "upstash-callback-delay": "5s" },
  ],
  [
    "POST",
    "/v2/publish/http://a.b/x",
    { "upstash-flow-control-key": "k", "upstash-flow-control-value": "parallelism=abc" },
  ],
  [
    "POST",
    "/v2/publish/http://a.b/x",
    { "upstash-flow-control-key": "k", "upstash-flow-control-value": "rate=1,period=0s" },
  ],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-retry-delay": "pow(2," }],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-redact-fields": "bogus" }],
  ["POST", "/v2/publish/http://a.b/x", { "upstash-cron": "* * * * *" }],
  ["POST", "/v2/enqueue/bad name!/http://a.b/x"],
  ["POST", "/v2/enqueue/q/"],
  ["POST", "/v2/batch", json, "{}"],
  ["POST", "/v2/batch", json, "[1,2]"],
  ["POST", "/v2/batch", json, '[{"destination":"http://a.b","headers":null}]'],
  ["POST", "/v2/batch", json, '[{"destination":"http://a.b","body":5}]'],
  ["POST", "/v2/queues", json, "nope"],
  ["POST", "/v2/queues", json, "null"],
  ["POST", "/v2/queues", json, '{"queueName":"q","parallelism":"abc"}'],
  ["POST", "/v2/queues", json, '{"queueName":"q","parallelism":0}'],
  ["POST", "/v2/topics/t/endpoints", json, '{"endpoints":[null]}'],
  ["POST", "/v2/topics/t/endpoints", json, '{"endpoints":[{"url":"ftp://x"}]}'],
  ["POST", "/v2/topics/t/endpoints", json, '{"endpoints":"x"}'],
  ["POST", "/v2/schedules/http://a.b/x", { "upstash-cron": "CRON_TZ= * * * * *" }],
  ["POST", "/v2/schedules/http://a.b/x", { "upstash-cron": "* * * * * *" }],
  ["POST", "/v2/schedules/http://a.b/x", { "upstash-cron": "*/0 * * * *" }],
  ["POST", "/v2/schedules/http://a.b/x", { "upstash-cron": "* * * * *", "upstash-schedule-id": "a/b" }],
  ["POST", "/v2/schedules/http://a.b/x"],
  ["GET", "/v2/dlq?count=abc"],
  ["GET", "/v2/dlq?cursor=xyz"],
  ["GET", "/v2/dlq?host=a.b"],
  ["GET", "/v2/events?cursor=abc"],
  ["GET", "/v2/events?fromDate=yesterday"],
  ["GET", "/v2/events?order=sideways"],
  ["DELETE", "/v2/messages?count=0"],
  ["POST", "/v2/flowControl/none/pin?parallelism=2"],
  ["POST", "/v2/flowControl/none/explode"],
  ["POST", "/v2/dlq/retry/none"],
  ["GET", "/v2/messages/%ZZ"],
  ["GET", "/v2/nothing"],
  ["GET", "/v2/keys", { authorization: "Basic abc" }],
  ["GET", "/v2/keys", { authorization: "Bearer not-a-dev-token" }],
  ["POST", "/v2/workflows/runs/x"],
];

it("answers every malformed request with a 4xx/501 JSON error and keeps accepted messages", async () => {
  const kept = await server.app.request("/v2/publish/http://127.0.0.1:9/later", {
    method: "POST",
    headers: { ...auth, "upstash-delay": "1h" },
    body: "keep me",
  });
  const { messageId } = (await kept.json()) as { messageId: string };
  for (const [method, path, headers = auth, body = "x"] of cases) {
    const res = await server.app.request(path, {
      method,
      headers: { ...auth, ...headers },
      body: method === "GET" ? undefined : body,
    });
    const label = `${method} ${path} ${JSON.stringify(headers)} ${body}`;
    expect(res.status === 501 || (res.status >= 400 && res.status < 500), `${label} -> ${res.status}`).toBe(
      true,
    );
    const payload = (await res.json()) as { error?: unknown };
    expect(typeof payload.error === "string" && payload.error.length > 10, label).toBe(true);
  }
  const still = await server.app.request(`/v2/messages/${messageId}`, { headers: auth });
  expect(((await still.json()) as { body: string }).body).toBe("keep me");
});
