import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../helpers/process.js";

const root = resolve(import.meta.dirname, "../..");

// The harness uses no test-runner globals: the same checks pass under node:test, in a process
// that never loads vitest.
describe("other test runners", () => {
  it("runs under node:test", async () => {
    const output = await run(
      process.execPath,
      ["--import", "tsx", "--test", "--test-reporter=tap", "test/testing/fixtures/node-runner.ts"],
      { cwd: root },
    );
    expect(output).toMatch(/^# pass 3$/m);
    expect(output).toMatch(/^# fail 0$/m);
  }, 30_000);
});
