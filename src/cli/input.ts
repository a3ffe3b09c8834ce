import { readFileSync } from "node:fs";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { AnyJob } from "jobstash";
import { formatIssues, issuePath } from "../errors.js";
import { InputError } from "./errors.js";

/**
 * A job's input as the CLI takes it (a JSON argument, a file, or stdin), and checked against
 * the job's schema the way `trigger` checks it.
 */

/** Where the input came from, named in errors. */
export type InputSource =
  | { kind: "argument"; text: string }
  | { kind: "file"; path: string }
  | { kind: "stdin" };

/** The JSON text of the input; undefined when none was given. */
export function readInput(source: InputSource | undefined): { text: string; where: string } | undefined {
  if (!source) return undefined;
  if (source.kind === "argument") return { text: source.text, where: "the JSON argument" };
  if (source.kind === "stdin") {
    if (process.stdin.isTTY) {
      throw new InputError('"-" reads the input from stdin, but stdin is a terminal: pipe the JSON in');
    }
    return { text: readFileSync(0, "utf8"), where: "stdin" };
  }
  try {
    return { text: readFileSync(source.path, "utf8"), where: source.path };
  } catch (error) {
    throw new InputError(`cannot read --input-file ${source.path}: ${(error as Error).message}`);
  }
}

/** JSON.parse with an error that says where the text came from and what to fix. */
export function parseJsonInput(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const hint =
      /^\s*\{?\s*[A-Za-z_]/.test(text) && !/^\s*(true|false|null)\s*$/.test(text)
        ? ' (JSON needs double-quoted keys and strings: \'{"name": "Ada"}\'; quote the whole argument for your shell)'
        : "";
    throw new InputError(`${where} is not valid JSON: ${(error as Error).message}${hint}`);
  }
}

/** The schema's verdict on a value: its issues as `{ path, message }`, or none. */
export async function checkInput(
  job: AnyJob,
  value: unknown,
): Promise<{ ok: true; value: unknown } | { ok: false; issues: readonly StandardSchemaV1.Issue[] }> {
  const result = await job.input["~standard"].validate(value);
  return result.issues ? { ok: false, issues: result.issues } : { ok: true, value: result.value };
}

/** Issues as JSON output shows them. */
export function issuesJson(issues: readonly StandardSchemaV1.Issue[]): { path: string; message: string }[] {
  return issues.map((issue) => ({ path: issuePath(issue), message: issue.message }));
}

/** An InputError (exit 2) for an input the schema rejects, listing the issues. */
export function invalidInput(
  job: AnyJob,
  issues: readonly StandardSchemaV1.Issue[],
  where: string,
): InputError {
  return new InputError(
    `${where} does not match the schema of job "${job.id}"; nothing was sent:\n${formatIssues(issues)}`,
    { issues: issuesJson(issues) },
  );
}
