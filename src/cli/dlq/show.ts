import { formatIssues } from "../../errors.js";
import { InputError } from "../errors.js";
import { issuesJson } from "../input.js";
import { OPS_OPTIONS, openOps, opsHelp } from "../ops.js";
import { printJson, styler } from "../output.js";
import { parseCommand } from "../shared.js";
import { decodeEntry, entriesOf, entryJson } from "./entries.js";
import { utc } from "./list.js";

const HELP = `Usage: jobstash dlq show <dlqId> [options]

One DLQ entry: its job and message, the decoded body (and whether it fits the job's current
schema, with the issues when it does not), and the last response QStash got.

Options:
${opsHelp()}

Examples:
  jobstash dlq show 1725323658779-0
  jobstash dlq show 1725323658779-0 --json | jq .input

Exit codes: 0 done, 1 QStash refused or could not be reached, 2 bad input (an unknown id).`;

/** Pretty JSON when the text is JSON, else the text. */
function pretty(text: string | undefined): string {
  if (text === undefined || text === "") return "(empty)";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** `jobstash dlq show`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const { values, positionals } = parseCommand("dlq show", argv, OPS_OPTIONS, { max: 1, usage: "<dlqId>" });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [id] = positionals;
  if (!id)
    throw new InputError("which entry? `jobstash dlq show <dlqId>` (`jobstash dlq list` shows the ids)");
  const ops = await openOps(values);
  const [entry] = await entriesOf(ops, [id]);
  const d = await decodeEntry(ops, entry!);
  const e = d.entry;
  const response =
    e.responseBody ??
    (e.responseBodyBase64 ? Buffer.from(e.responseBodyBase64, "base64").toString("utf8") : undefined);
  if (values.json) {
    printJson({
      ...entryJson(d),
      input: d.notJson ? null : (d.input ?? null),
      body: d.body ?? null,
      response: { status: e.responseStatus ?? null, headers: e.responseHeader ?? {}, body: response ?? null },
      maxRetries: e.maxRetries ?? null,
      createdAt: e.createdAt === undefined ? null : new Date(e.createdAt).toISOString(),
      ...(e.queueName && { queueName: e.queueName }),
      ...(e.scheduleId && { scheduleId: e.scheduleId }),
      labels: e.labels ?? (e.label ? [e.label] : []),
      ...(d.issues && { issues: issuesJson(d.issues) }),
    });
    return 0;
  }
  const style = styler();
  const what =
    d.kind === "foreign"
      ? "a message of another app (its URL is not under JOBSTASH_BASE_URL)"
      : d.kind === "job"
        ? `${d.jobId}${d.job ? "" : " (no such job in jobstash.config.ts)"}`
        : `${d.jobId}, its ${d.kind === "callback" ? "success callback (onSuccess)" : "failure callback (onFailure)"}`;
  const lines = [
    `${style("bold", "DLQ entry")} ${e.dlqId}`,
    `  job        ${what}`,
    `  message    ${e.messageId}`,
    `  url        ${e.url}`,
    `  failed at  ${utc(d.failedAt)} UTC`,
    ...(e.maxRetries !== undefined ? [`  retries    ${e.maxRetries} allowed`] : []),
    `  response   ${e.responseStatus ?? "none"}${d.reason ? `: ${d.reason}` : ""}`,
  ];
  if (e.queueName) lines.push(`  queue      ${e.queueName}`);
  if (e.scheduleId) lines.push(`  schedule   ${e.scheduleId}`);
  lines.push("");
  if (d.fits === true) lines.push(style("green", `Body (fits the schema of ${d.jobId}):`));
  else if (d.fits === false)
    lines.push(
      style(
        "red",
        d.notJson
          ? `Body (not JSON, so not an input of ${d.jobId}):`
          : `Body (does not fit the current schema of ${d.jobId}):\n${formatIssues(d.issues ?? [])}`,
      ),
    );
  else lines.push("Body:");
  lines.push(pretty(d.body), "", `Last response (${e.responseStatus ?? "no response"}):`, pretty(response));
  if (d.kind === "job" && d.job) {
    lines.push(
      "",
      d.fits
        ? `Send it again: \`jobstash dlq retry ${e.dlqId}\`, or edit it first: \`jobstash dlq replay ${e.dlqId} --edit\``
        : `Fix the input and send it: \`jobstash dlq replay ${e.dlqId} --edit\``,
    );
  }
  console.log(lines.join("\n"));
  return 0;
}
