import { JobstashError } from "jobstash";
import { SyncApplyError, SyncReadError, SyncValidationError } from "jobstash/sync";
import { describe, expect, it } from "vitest";

const report = {
  created: [],
  updated: [],
  deleted: [],
  skipped: [],
  failed: [{ name: "queue q", error: "boom" }],
  writes: 1,
  retried: 0,
  durationMs: 1,
};

describe("sync's errors", () => {
  it("are JobstashErrors of their own kinds, named after them", () => {
    const errors = [
      new SyncValidationError(["set JOBSTASH_BASE_URL"]),
      new SyncReadError("could not read QStash", { cause: new Error("ECONNREFUSED") }),
      new SyncApplyError(report),
    ];
    for (const error of errors) expect(error).toBeInstanceOf(JobstashError);
    expect(errors.map((e) => e.name)).toEqual(["SyncValidationError", "SyncReadError", "SyncApplyError"]);
    expect(errors[1]).not.toBeInstanceOf(SyncApplyError);
    expect(errors[1]!.cause).toBeInstanceOf(Error);
    expect(errors[2]!.message).toContain("queue q: boom");
  });

  it("are recognised by kind when thrown by a second copy of the module (the CLI bundles its own)", async () => {
    // A query string makes the module loader evaluate the file again: a separate class.
    // @ts-expect-error: TypeScript knows no file by that name; the query is the loader's.
    const copy: typeof import("../../src/sync/errors.js") = await import("../../src/sync/errors.js?copy");
    expect(copy.SyncValidationError).not.toBe(SyncValidationError);
    const error = new copy.SyncValidationError(["bad cron"]);
    expect(error).toBeInstanceOf(SyncValidationError);
    expect(error).not.toBeInstanceOf(SyncReadError);
    expect(new copy.SyncApplyError(report)).toBeInstanceOf(SyncApplyError);
  });
});
