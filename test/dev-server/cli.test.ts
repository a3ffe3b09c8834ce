import type { ChildProcess } from "node:child_process";
import { DEV_USERS } from "jobstash/dev-server";
import { afterAll, describe, expect, it } from "vitest";
import { startCli as start } from "../helpers/cli.js";
import { startReceiver } from "./helpers.js";

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

describe("jobstash dev", () => {
  it("prints the env lines, logs each lifecycle event, and stops cleanly on SIGINT", async () => {
    const receiver = await startReceiver((d) =>
      d.path === "/down"
        ? {
            status: 500,
            body: JSON.stringify({ error: { code: "JOB_FAILED", message: "Error: db is down" } }),
          }
        : {},
    );
    const run = start(["dev", "--port", "0"]);
    children.push(run.child);
    try {
      const [, url] = await run.waitFor(/QSTASH_URL=(http:\/\/127\.0\.0\.1:\d+)/);
      await run.waitFor(/QSTASH_TOKEN=eyJVc2VySUQiOiJkZWZhdWx0VXNlciIs/);
      await run.waitFor(/QSTASH_CURRENT_SIGNING_KEY=sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r/);
      await run.waitFor(/QSTASH_NEXT_SIGNING_KEY=sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs/);
      const res = await fetch(`${url}/v2/publish/${receiver.url}/cli`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}` },
        body: "hello",
      });
      const { messageId } = (await res.json()) as { messageId: string };
      await run.waitFor(new RegExp(`DELIVERED\\s+${messageId} → ${receiver.url}/cli \\(200, retried 0/3\\)`));
      expect(run.output()).toMatch(new RegExp(`CREATED\\s+${messageId}`));
      // A failing delivery's lines end with the error the endpoint answered.
      const publish = async (path: string, headers: Record<string, string>) => {
        const r = await fetch(`${url}/v2/publish/${receiver.url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}`, ...headers },
        });
        return ((await r.json()) as { messageId: string }).messageId;
      };
      const failing = await publish("/down", { "upstash-retries": "0" });
      await run.waitFor(new RegExp(`ERROR\\s+${failing} → \\S+ \\(500, retried 0/0\\): Error: db is down`));
      await run.waitFor(new RegExp(`FAILED\\s+${failing} → \\S+ \\(500, retried 0/0\\): Error: db is down`));
      const delayed = await publish("/later", { "upstash-delay": "90s" });
      await run.waitFor(
        new RegExp(`CREATED\\s+${delayed} → \\S+ \\(delayed until \\d\\d:\\d\\d:\\d\\d, in 1m 30s\\)`),
      );
      run.child.kill("SIGINT");
      expect(await run.exited).toBe(0);
      expect(run.output()).toMatch(/SIGINT, shutting down/);
    } finally {
      await receiver.close();
    }
  });

  it("honours QSTASH_DEV_PORT, prints --help, and rejects a bad port", async () => {
    const help = start(["dev", "--help"]);
    expect(await help.exited).toBe(0);
    expect(help.output()).toMatch(/--port/);
    const bad = start(["dev", "--port", "nope"]);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/invalid port "nope"/);
    const envPort = start(["dev"], { QSTASH_DEV_PORT: "0" });
    children.push(envPort.child);
    await envPort.waitFor(/QSTASH_URL=http:\/\/127\.0\.0\.1:\d+/);
    envPort.child.kill("SIGTERM");
    expect(await envPort.exited).toBe(0);
  });
});
