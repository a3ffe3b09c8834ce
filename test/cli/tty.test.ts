import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import registry from "./fixtures/ops/jobstash.config.js";
import { OPS_APP, opsStackForFile } from "./ops-harness.js";
import { CLI, requireBuiltCli } from "./run.js";

requireBuiltCli();
const stack = opsStackForFile(registry);

/**
 * `jobstash <args>` on a terminal: util-linux `script` gives it a pseudo-terminal, and what
 * is written to `answer` reaches it as typed input.
 */
function onTerminal(args: string[], options: { answer?: string; env?: Record<string, string> } = {}) {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(QSTASH_|JOBSTASH_|NO_COLOR|FORCE_COLOR)/.test(k)),
  );
  const child = spawn("script", ["-qec", command, "/dev/null"], {
    cwd: OPS_APP,
    env: { ...inherited, ...stack.env, TERM: "xterm", ...options.env } as unknown as NodeJS.ProcessEnv,
  });
  let out = "";
  child.stdout.on("data", (c) => {
    out += c;
    // Answer once the question is on the screen.
    if (options.answer !== undefined && /\[y\/N\] /.test(out)) {
      child.stdin.write(options.answer);
      options.answer = undefined;
    }
  });
  return new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, out })),
  );
}

async function deadLetters(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await stack.client.publishJSON({
      url: `${stack.baseUrl}/bounce`,
      body: { email: `t${i}@bounce.test` },
      retries: 0,
    });
  }
  await expect.poll(async () => (await stack.client.dlq.listMessages()).messages.length).toBe(n);
}

describe("on a terminal", () => {
  it("dlq delete --all asks, and deletes only on yes", async () => {
    await deadLetters(2);
    const no = await onTerminal(["dlq", "delete", "--all"], { answer: "n\n" });
    expect(no.code).toBe(0);
    expect(no.out).toContain(`Delete 2 DLQ entries at ${stack.url}? [y/N] `);
    expect(no.out).toContain("Nothing deleted.");
    expect((await stack.client.dlq.listMessages()).messages).toHaveLength(2);
    const yes = await onTerminal(["dlq", "delete", "--all"], { answer: "y\n" });
    expect(yes.code).toBe(0);
    expect(yes.out).toContain(`Deleted 2 DLQ entries at ${stack.url}.`);
    expect((await stack.client.dlq.listMessages()).messages).toHaveLength(0);
  });

  it("colours a table on a terminal, and never with NO_COLOR", async () => {
    await deadLetters(1);
    const colored = await onTerminal(["dlq", "list"]);
    expect(colored.out).toContain("\u001b[1mDLQ ID");
    const plain = await onTerminal(["dlq", "list"], { env: { NO_COLOR: "1" } });
    expect(plain.out).toMatch(/^DLQ ID {11}JOB/);
    expect(plain.out).not.toContain("\u001b[");
  });
});
