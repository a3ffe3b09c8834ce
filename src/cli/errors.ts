import { JobstashError } from "../errors.js";
import { SyncValidationError } from "../sync/errors.js";

/**
 * The CLI's errors, one kind per meaning, on the core's design (`JobstashError`: `instanceof`
 * checks the kind, so it holds across the CLI's bundle and the package's). Commands throw
 * them and never print them; the one catch in index.ts prints `jobstash <command>: <message>`
 * and exits with {@link exitCodeOf}.
 */

/**
 * Bad input, reported before anything is sent: an option, an argument, a file or a setting
 * the user must fix. Exit code 2.
 */
export class InputError extends JobstashError {
  static override readonly kind: string = "InputError";
  constructor(
    message: string,
    /** Fields added to the error's `--json` form (e.g. a schema's issues). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * There is no config file: none of the default names in the folder, or no file at `--config`.
 * Bad input like an {@link InputError} (exit code 2), and a kind of its own because commands
 * that can work without a registry go on without one.
 */
export class ConfigNotFoundError extends JobstashError {
  static override readonly kind: string = "ConfigNotFoundError";
}

/**
 * The command could not do its work: QStash refused the token or could not be reached, the
 * dev server could not listen. Exit code 1.
 */
export class OperationError extends JobstashError {
  static override readonly kind: string = "OperationError";
}

/**
 * The documented exit code of an error: 2 for bad input (nothing was sent; sync refused to
 * start), 1 for everything else that failed, known or not.
 */
export function exitCodeOf(error: unknown): 1 | 2 {
  return isBadInput(error) ? 2 : 1;
}

/** Whether the user's input is at fault (exit code 2). */
export function isBadInput(error: unknown): error is JobstashError {
  return (
    error instanceof InputError ||
    error instanceof ConfigNotFoundError ||
    error instanceof SyncValidationError
  );
}
