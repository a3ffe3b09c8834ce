import { JobstashError } from "../errors.js";

/**
 * What sync throws, one kind per way a run can end badly. They are `JobstashError`s, so
 * `instanceof` checks their kind and holds across copies of this module (the CLI's bundle
 * has its own). Exit codes are the CLI's business: it maps these kinds in one place.
 */

/** Sync refused to start: every problem found, each saying what to fix. Nothing was read or written. */
export class SyncValidationError extends JobstashError {
  static override readonly kind: string = "SyncValidationError";
  constructor(readonly problems: readonly string[]) {
    super(`sync cannot start:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** QStash could not be read (after retries); nothing was written. */
export class SyncReadError extends JobstashError {
  static override readonly kind: string = "SyncReadError";
}

/** One change that did not happen, and why. */
export interface SkippedChange {
  name: string;
  reason: string;
}

/** What `applySync` did (carried by {@link SyncApplyError} when some of it failed). */
export interface ApplyReport {
  created: string[];
  updated: string[];
  deleted: string[];
  skipped: SkippedChange[];
  failed: { name: string; error: string }[];
  /** Write calls sent to QStash, retries included. */
  writes: number;
  /** Of those, how many were retries. */
  retried: number;
  durationMs: number;
}

/** A failed apply: the report says what was done before the failures. Re-running converges. */
export class SyncApplyError extends JobstashError {
  static override readonly kind: string = "SyncApplyError";
  constructor(readonly report: ApplyReport) {
    super(
      `${report.failed.length} change(s) failed:\n${report.failed.map((f) => `  - ${f.name}: ${f.error}`).join("\n")}\nRe-run to converge: completed changes are not repeated.`,
    );
  }
}
