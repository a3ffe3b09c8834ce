import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnvFiles, parseEnvFile } from "../../src/cli/env-files.js";

const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

describe("the env files the CLI reads", () => {
  it("parses them as dotenv does", () => {
    expect(
      parseEnvFile(
        [
          "# a comment",
          "PLAIN=value # trailing comment",
          "export EXPORTED=yes",
          "SINGLE='kept as is \\n # here'",
          'DOUBLE="line one\\nline two"',
          "EMPTY=",
          "  SPACED = around  ",
          "not a line",
        ].join("\n"),
      ),
    ).toEqual([
      ["PLAIN", "value"],
      ["EXPORTED", "yes"],
      ["SINGLE", "kept as is \\n # here"],
      ["DOUBLE", "line one\nline two"],
      ["EMPTY", ""],
      ["SPACED", "around"],
    ]);
  });

  it(".env.local wins over .env and .dev.vars; the environment wins over every file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jobstash-env-"));
    try {
      await writeFile(join(dir, ".env.local"), "CLI_ENV_A=local\nCLI_ENV_B=local\n");
      await writeFile(join(dir, ".env"), "CLI_ENV_A=env\nCLI_ENV_C=env\n");
      await writeFile(join(dir, ".dev.vars"), "CLI_ENV_D=vars\nCLI_ENV_C=vars\n");
      process.env.CLI_ENV_B = "shell";
      const sources = loadEnvFiles(dir);
      expect([
        process.env.CLI_ENV_A,
        process.env.CLI_ENV_B,
        process.env.CLI_ENV_C,
        process.env.CLI_ENV_D,
      ]).toEqual(["local", "shell", "env", "vars"]);
      expect(["CLI_ENV_A", "CLI_ENV_B", "CLI_ENV_C", "CLI_ENV_D"].map((n) => sources.get(n))).toEqual([
        ".env.local",
        "environment",
        ".env",
        ".dev.vars",
      ]);
      // --env-file: that file only, and it must exist.
      await writeFile(join(dir, ".env.production"), "CLI_ENV_E=prod\n");
      delete process.env.CLI_ENV_A;
      const only = loadEnvFiles(dir, ".env.production");
      expect([process.env.CLI_ENV_E, process.env.CLI_ENV_A, only.get("CLI_ENV_E")]).toEqual([
        "prod",
        undefined,
        ".env.production",
      ]);
      expect(() => loadEnvFiles(dir, ".env.nope")).toThrow("--env-file .env.nope not found");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
