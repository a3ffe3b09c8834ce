import { OPS_OPTIONS, openOps, opsHelp, sinceTime } from "../ops.js";
import { printJson, table } from "../output.js";
import { parseCommand } from "../shared.js";
import { type DecodedEntry, decodeEntry, dlqFilter, entryJson, listAll } from "./entries.js";

const HELP = `Usage: jobstash dlq list [options]

One row per DLQ entry: its job, when it failed, the last response's status and reason, and
whether its body still fits the job's current schema (FITS: yes, no, or - when there is no
schema to check: a callback, or a message of another app).

Options:
      --job <id>           Only this job's entries (and its callbacks')
      --since <when>       Only entries that failed since a duration ago (30s, 10m, 2h, 1d)
                           or an ISO 8601 time
${opsHelp()}

Examples:
  jobstash dlq list
  jobstash dlq list --job send-welcome --since 1d
  jobstash dlq list --json | jq -r '.entries[] | select(.fits == false) | .dlqId'

Exit codes: 0 done, 1 QStash refused or could not be reached, 2 bad input.`;

/** `FITS` as people read it. */
function fitsCell(d: DecodedEntry): string {
  if (d.fits === true) return "yes";
  if (d.fits === false) return d.notJson ? "no (not JSON)" : "no";
  return "-";
}

function jobCell(d: DecodedEntry): string {
  if (d.kind === "foreign") return "(other app)";
  const suffix = d.kind === "callback" ? " (onSuccess)" : d.kind === "failureCallback" ? " (onFailure)" : "";
  return `${d.jobId}${d.job || d.kind !== "job" ? "" : " (unknown)"}${suffix}`;
}

/** `2026-05-01 09:00:12` (UTC). */
export function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** `jobstash dlq list`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const { values } = parseCommand("dlq list", argv, {
    ...OPS_OPTIONS,
    job: { type: "string" },
    since: { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const since = values.since === undefined ? undefined : sinceTime(values.since);
  const ops = await openOps(values);
  const filter = dlqFilter(ops, { job: values.job, since });
  const entries = await Promise.all((await listAll(ops, filter)).map((e) => decodeEntry(ops, e)));
  if (values.json) {
    printJson({ count: entries.length, entries: entries.map(entryJson) });
    return 0;
  }
  if (!entries.length) {
    console.log(Object.keys(filter).length ? "No DLQ entries match." : "The DLQ is empty.");
    return 0;
  }
  console.log(
    table(
      [
        { title: "DLQ ID" },
        { title: "JOB" },
        { title: "FAILED (UTC)" },
        { title: "STATUS" },
        { title: "FITS", tone: (c) => (c.startsWith("no") ? "red" : undefined) },
        { title: "REASON", shrink: true },
      ],
      entries.map((d) => [
        d.entry.dlqId,
        jobCell(d),
        utc(d.failedAt),
        d.entry.responseStatus === undefined ? "-" : String(d.entry.responseStatus),
        fitsCell(d),
        d.reason ?? "",
      ]),
    ),
  );
  const unfit = entries.filter((d) => d.fits === false).length;
  console.log(
    `\n${entries.length} entr${entries.length === 1 ? "y" : "ies"}` +
      (unfit
        ? `, ${unfit} no longer fit${unfit === 1 ? "s" : ""} the job's schema (\`jobstash dlq replay <dlqId> --edit\`)`
        : ""),
  );
  return 0;
}
