import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../errors.js";
import { deleteDlq } from "../api.js";
import { InputError, OperationError } from "../errors.js";
import { checkInput, invalidInput, parseJsonInput, readInput } from "../input.js";
import { OPS_OPTIONS, openOps, opsHelp, qstashFailure } from "../ops.js";
import { printJson } from "../output.js";
import { parseCommand } from "../shared.js";
import { decodeEntry, entriesOf } from "./entries.js";

const HELP = `Usage: jobstash dlq replay <dlqId> [--input <json> | --input-file <file> | --edit] [options]

Publishes an input as a new message of the entry's job, exactly as jobs.trigger() would (the
job's current URL, retries, flow control and callbacks), after checking it against the job's
current schema; then deletes the entry. Without an input option it replays the entry's own
body. Nothing is published, and the entry stays, when the input does not fit.

Options:
      --input <json>       The new input as JSON ("-" reads it from stdin)
  -i, --input-file <file>  The new input from a file
      --edit               Edit the entry's decoded body in $VISUAL or $EDITOR (default: vi)
${opsHelp()}

Examples:
  jobstash dlq replay 1725323658779-0 --edit
  jobstash dlq replay 1725323658779-0 --input '{"userId":"u1","email":"ada@example.com"}'

Exit codes: 0 replayed, 1 QStash refused or could not be reached, 2 bad input (an unknown id,
an entry that is not a job's message, an input that does not fit the schema).`;

/** Open `text` in the user's editor; resolves to what they saved. */
function edit(text: string, dlqId: string): { text: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "jobstash-replay-"));
  const file = join(dir, `${dlqId}.json`);
  writeFileSync(file, text);
  const editor = process.env.VISUAL || process.env.EDITOR || "vi";
  // Through the shell, as git runs it: EDITOR may carry arguments ("code --wait").
  const result = spawnSync(`${editor} "${file}"`, { shell: true, stdio: "inherit" });
  if (result.error || result.status !== 0) {
    throw new InputError(
      `the editor (${editor}) ${result.error ? `could not start: ${result.error.message}` : `exited with ${result.status}`}; nothing was replayed (set $EDITOR to the editor to use)`,
    );
  }
  return { text: readFileSync(file, "utf8"), file };
}

/** `jobstash dlq replay`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const { values, positionals } = parseCommand(
    "dlq replay",
    argv,
    {
      ...OPS_OPTIONS,
      input: { type: "string" },
      "input-file": { type: "string", short: "i" },
      edit: { type: "boolean" },
    },
    { max: 1, usage: "<dlqId>" },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [dlqId] = positionals;
  if (!dlqId)
    throw new InputError("which entry? `jobstash dlq replay <dlqId>` (`jobstash dlq list` shows the ids)");
  const given = [values.input !== undefined, values["input-file"] !== undefined, values.edit].filter(Boolean);
  if (given.length > 1) throw new InputError("give the new input one way: --input, --input-file or --edit");

  const ops = await openOps(values, { needRegistry: true });
  const [entry] = await entriesOf(ops, [dlqId]);
  const d = await decodeEntry(ops, entry!);
  if (d.kind !== "job") {
    throw new InputError(
      d.kind === "foreign"
        ? `entry ${dlqId} is a message to ${entry!.url}, not to a job under JOBSTASH_BASE_URL (${ops.baseUrl() ?? "not set"}); \`jobstash dlq retry ${dlqId}\` sends it again as it is`
        : `entry ${dlqId} is a ${d.kind === "callback" ? "success" : "failure"} callback of job ${d.jobId}, not a job's input; \`jobstash dlq retry ${dlqId}\` sends it again as it is`,
    );
  }
  const job = ops.job(d.jobId!);

  let text: string | undefined;
  let where: string;
  let saved: string | undefined;
  if (values.edit) {
    const original = d.notJson ? (d.body ?? "") : JSON.stringify(d.input, null, 2);
    const edited = edit(`${original}\n`, dlqId);
    ({ text, file: saved } = edited);
    where = "the edited input";
  } else if (values.input !== undefined || values["input-file"] !== undefined) {
    const read = readInput(
      values["input-file"] !== undefined
        ? { kind: "file", path: values["input-file"] }
        : values.input === "-"
          ? { kind: "stdin" }
          : { kind: "argument", text: values.input! },
    )!;
    text = read.text;
    where = `the input (${read.where})`;
  } else {
    text = d.body;
    where = "the entry's body";
  }
  const keep = saved ? `; your edit is in ${saved} (\`--input-file ${saved}\` uses it)` : "";
  let input: unknown;
  try {
    input = text === undefined || text.trim() === "" ? undefined : parseJsonInput(text, where);
  } catch (error) {
    throw new InputError(`${(error as Error).message}${keep}`);
  }
  const checked = await checkInput(job, input);
  if (!checked.ok) {
    const error = invalidInput(job, checked.issues, where);
    throw new InputError(`${error.message}${keep ? `\n${keep.slice(2)}` : ""}`, error.details);
  }
  const qstash = ops.qstash();
  let messageId: string;
  try {
    messageId = await ops.requireRegistry().trigger(job.id, input);
  } catch (error) {
    if (error instanceof ConfigError) throw new InputError(`${error.message}; nothing was sent`);
    throw qstashFailure(error, qstash, ops.sources);
  }
  try {
    await ops.api((q) => deleteDlq(q, [dlqId]));
  } catch (error) {
    throw new OperationError(
      `replayed as ${messageId}, but the entry could not be deleted (${(error as Error).message}); delete it with \`jobstash dlq delete ${dlqId}\``,
    );
  }
  if (values.json) printJson({ dlqId, jobId: job.id, messageId });
  else console.log(`Replayed ${dlqId} as ${messageId} (job ${job.id}); the entry is deleted.`);
  return 0;
}
