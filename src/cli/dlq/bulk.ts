import { deleteDlq, retryDlq } from "../api.js";
import { InputError } from "../errors.js";
import { OPS_OPTIONS, type Ops, openOps, opsHelp, sinceTime } from "../ops.js";
import { confirm, printJson, progress } from "../output.js";
import { parseCommand } from "../shared.js";
import { DLQ_PAGE, dlqFilter, entriesOf, listAll } from "./entries.js";

const OPTIONS = {
  ...OPS_OPTIONS,
  all: { type: "boolean" },
  job: { type: "string" },
  since: { type: "string" },
  yes: { type: "boolean", short: "y" },
} as const;

const help = (verb: "retry" | "delete") => `Usage: jobstash dlq ${verb} <dlqId...> [options]
       jobstash dlq ${verb} --all [--job <id>] [--since <when>] [options]

${
  verb === "retry"
    ? "Sends entries again as they are, each as a new message (QStash's DLQ retry), and\nremoves them from the DLQ. To change an input first, use `jobstash dlq replay`."
    : "Deletes entries from the DLQ. With --all it counts them and asks first."
}

Options:
      --all                Every entry (that matches --job and --since)
      --job <id>           With --all: only this job's entries (and its callbacks')
      --since <when>       With --all: only entries that failed since a duration ago or an ISO time${
        verb === "delete"
          ? `
  -y, --yes                Do not ask before deleting with --all (needed without a terminal)`
          : ""
      }
${opsHelp()}

Examples:
  jobstash dlq ${verb} 1725323658779-0 1725323658779-1
  jobstash dlq ${verb} --all --job send-welcome${verb === "delete" ? " --yes" : ""}
  jobstash dlq ${verb} --all --since 1h

Exit codes: 0 done, 1 QStash refused or could not be reached, 2 bad input (an unknown id: then
nothing is ${verb === "retry" ? "retried" : "deleted"}).`;

/** The ids to act on: the ones named (all checked to exist first), or every entry matching the filters. */
async function selection(
  verb: string,
  values: { all?: boolean; job?: string; since?: string; json?: boolean },
  positionals: string[],
  ops: Ops,
): Promise<{ ids: string[]; bulk: boolean }> {
  if (values.all && positionals.length) {
    throw new InputError(
      `give either DLQ ids or --all, not both: \`jobstash dlq ${verb} <dlqId...>\` or \`--all\``,
    );
  }
  if (!values.all && (values.job !== undefined || values.since !== undefined)) {
    throw new InputError(
      `--job and --since select entries with --all: \`jobstash dlq ${verb} --all --job <id>\``,
    );
  }
  if (!values.all) {
    if (!positionals.length) {
      throw new InputError(
        `which entries? \`jobstash dlq ${verb} <dlqId...>\`, or --all (\`jobstash dlq list\` shows the ids)`,
      );
    }
    const unique = [...new Set(positionals)];
    return { ids: (await entriesOf(ops, unique)).map((e) => e.dlqId), bulk: false };
  }
  const since = values.since === undefined ? undefined : sinceTime(values.since);
  const filter = dlqFilter(ops, { job: values.job, since });
  const counting = progress("reading the DLQ:", undefined, { quiet: values.json });
  const entries = await listAll(ops, filter, counting.update);
  counting.end();
  return { ids: entries.map((e) => e.dlqId), bulk: true };
}

/** Apply `act` to the ids 100 at a time, with a progress line. */
async function inChunks<T>(
  ids: string[],
  label: string,
  quiet: boolean | undefined,
  act: (chunk: string[]) => Promise<T[] | number>,
): Promise<{ results: T[]; count: number }> {
  const results: T[] = [];
  let count = 0;
  const bar = progress(label, ids.length, { quiet });
  for (let i = 0; i < ids.length; i += DLQ_PAGE) {
    const done = await act(ids.slice(i, i + DLQ_PAGE));
    if (typeof done === "number") count += done;
    else {
      results.push(...done);
      count += done.length;
    }
    bar.update(Math.min(ids.length, i + DLQ_PAGE));
  }
  bar.end();
  return { results, count };
}

const where = (ops: Ops) => ops.qstash().url;

/** `jobstash dlq retry`. */
export async function retry(argv: string[]): Promise<number | undefined> {
  const { values, positionals } = parseCommand("dlq retry", argv, OPTIONS, {
    max: Infinity,
    usage: "<dlqId...>",
  });
  if (values.help) {
    console.log(help("retry"));
    return 0;
  }
  const ops = await openOps(values);
  const { ids, bulk } = await selection("retry", values, positionals, ops);
  const { results } = await inChunks(ids, "retrying", values.json, (chunk) =>
    ops.api((q) => retryDlq(q, chunk)),
  );
  if (values.json) {
    printJson({ retried: results.length, messageIds: results });
  } else if (!ids.length) {
    console.log(bulk ? "No DLQ entries match; nothing to retry." : "Nothing to retry.");
  } else {
    console.log(
      `Retried ${results.length} entr${results.length === 1 ? "y" : "ies"} as new messages at ${where(ops)}${results.length <= 10 ? `: ${results.join(", ")}` : ""}`,
    );
  }
  return 0;
}

/** `jobstash dlq delete`. */
export async function remove(argv: string[]): Promise<number | undefined> {
  const { values, positionals } = parseCommand("dlq delete", argv, OPTIONS, {
    max: Infinity,
    usage: "<dlqId...>",
  });
  if (values.help) {
    console.log(help("delete"));
    return 0;
  }
  const ops = await openOps(values);
  const { ids, bulk } = await selection("delete", values, positionals, ops);
  if (bulk && ids.length) {
    const scope = [values.job && `of job ${values.job}`, values.since && `since ${values.since}`]
      .filter(Boolean)
      .join(" ");
    const question = `Delete ${ids.length} DLQ entr${ids.length === 1 ? "y" : "ies"}${scope ? ` ${scope}` : ""} at ${where(ops)}?`;
    if (!(await confirm(question, values.yes))) {
      if (values.json) printJson({ deleted: 0 });
      else console.log("Nothing deleted.");
      return 0;
    }
  }
  const { count } = await inChunks(ids, "deleting", values.json, (chunk) =>
    ops.api((q) => deleteDlq(q, chunk)),
  );
  if (values.json) printJson({ deleted: count });
  else if (!ids.length) console.log(bulk ? "No DLQ entries match; nothing to delete." : "Nothing to delete.");
  else console.log(`Deleted ${count} DLQ entr${count === 1 ? "y" : "ies"} at ${where(ops)}.`);
  return 0;
}
