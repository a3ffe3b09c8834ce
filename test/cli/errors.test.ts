import { ConfigError } from "jobstash";
import { SyncApplyError, SyncReadError, SyncValidationError } from "jobstash/sync";
import { describe, expect, it } from "vitest";
import { ConfigNotFoundError, exitCodeOf, InputError, OperationError } from "../../src/cli/errors.js";

describe("the CLI's exit codes", () => {
  it("maps bad input to 2 and every other failure to 1, by the error's kind", () => {
    const report = {
      created: [],
      updated: [],
      deleted: [],
      skipped: [],
      failed: [],
      writes: 0,
      retried: 0,
      durationMs: 0,
    };
    const cases: [unknown, number][] = [
      [new InputError("unknown option --bogus"), 2],
      [new ConfigNotFoundError("no jobstash.config.ts"), 2],
      [new SyncValidationError(["set JOBSTASH_BASE_URL"]), 2],
      [new OperationError("QStash refused the token"), 1],
      [new SyncReadError("could not read QStash"), 1],
      [new SyncApplyError(report), 1],
      // Anything the CLI did not expect fails too, never as bad input.
      [new ConfigError("bad setting"), 1],
      [new TypeError("x is undefined"), 1],
      ["a string", 1],
      [undefined, 1],
    ];
    for (const [error, code] of cases) expect([error, exitCodeOf(error)]).toEqual([error, code]);
  });

  it("knows an error by its kind, not by its class object: one thrown by another copy counts", () => {
    // What a second copy of InputError (e.g. the package's own next to the CLI's bundle) carries.
    const copy = Object.defineProperty(new Error("bad"), Symbol.for("jobstash.error"), {
      value: "InputError",
    });
    expect(exitCodeOf(copy)).toBe(2);
  });
});
