import type { TriggerOptions } from "jobstash";
import { ConfigError, InvalidPayloadError } from "../errors.js";
import { type LogEntry, listDlq } from "./api.js";
import { InputError } from "./errors.js";
import { formatEvent } from "./format-event.js";
import { checkInput, type InputSource, invalidInput, parseJsonInput, readInput } from "./input.js";
import { eventJson, FINAL_STATES, followLogs, MessageHistory, toEvent } from "./logs.js";
import { OPS_OPTIONS, type Ops, openOps, opsHelp, qstashFailure, wholeNumber } from "./ops.js";
import { printJson } from "./output.js";
import { parseCommand } from "./shared.js";

const HELP = `Usage: jobstash trigger <jobId> [json] [options]

Checks the input against the job's schema and publishes it to QStash exactly as
jobs.trigger() does (the job's URL, retries, flow control, callbacks), then prints the
message id. Nothing is sent when the input does not fit the schema.

Input (one of; none for a job whose schema takes no input):
  [json]                           The input as one JSON argument: '{"email":"a@b.co"}'
  -                                Read the JSON input from stdin
  -i, --input-file <file>          Read the JSON input from a file

Trigger options (each overrides the job's own setting):
      --delay <duration>           Wait before the first delivery: 30s, 5m, 2h, 1d
      --not-before <time>          Deliver no earlier than this ISO 8601 time
      --deduplication-id <id>      QStash drops a message with an id it saw in the last 10 minutes
      --content-based-deduplication  ... or with the same body and headers
      --retries <n>                Retries after the first attempt
      --retry-delay <expr>         Milliseconds between retries, or an expression of \`retried\`
      --timeout <duration>         How long one delivery may take
      --label <label>              Label in QStash's logs and DLQ (default: the job id)
      --queue <name>               Publish onto this queue (FIFO)
      --flow-control <spec>        key=<key>,parallelism=<n>,rate=<n>,period=<duration>
  -H, --header <name: value>       A header delivered with the message (repeatable)
      --wait                       Follow the message until it is delivered or fails for good,
                                   printing its events, then its outcome
${opsHelp(35)}

Examples:
  jobstash trigger send-welcome '{"userId":"u1","email":"ada@example.com"}'
  jobstash trigger send-welcome --input-file input.json --delay 10m --label retry-batch
  echo '{"userId":"u1","email":"ada@example.com"}' | jobstash trigger send-welcome - --wait
  id=$(jobstash trigger nightly-report '{"day":"2026-05-01"}')

Exit codes: 0 published (with --wait: delivered), 1 QStash refused it or could not be
reached (with --wait: the message failed for good or was cancelled), 2 bad input (unknown
job, input that fails the schema, JSON that does not parse, a bad option): nothing was sent.`;

/** The flags that map to `TriggerOptions` fields, named in errors about them. */
const FLAG_OF: Record<string, string> = {
  retries: "--retries",
  retryDelay: "--retry-delay",
  timeout: "--timeout",
  delay: "--delay",
  label: "--label",
  queue: "--queue",
  flowControl: "--flow-control",
};

/** `key=tenant:1,parallelism=2,rate=10,period=1m` as a FlowControl. */
function flowControlOption(text: string): NonNullable<TriggerOptions["flowControl"]> {
  const fields = new Map<string, string>();
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    if (eq < 1 || !["key", "parallelism", "rate", "period"].includes(name)) {
      throw new InputError(
        `--flow-control ${JSON.stringify(text)}: expected key=<key>,parallelism=<n>,rate=<n>,period=<duration> (at least key and one limit)`,
      );
    }
    fields.set(name, part.slice(eq + 1).trim());
  }
  const number = (name: string) => (fields.has(name) ? Number(fields.get(name)) : undefined);
  return {
    key: fields.get("key") ?? "",
    parallelism: number("parallelism"),
    rate: number("rate"),
    period: fields.get("period") as TriggerOptions["delay"],
  };
}

/** `-H "X-Tenant: t1"` (or `X-Tenant=t1`) as headers. */
function headerOptions(values: string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const headers: Record<string, string> = {};
  for (const value of values) {
    const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*[:=]\s*(.*)$/.exec(value);
    if (!match) throw new InputError(`--header ${JSON.stringify(value)}: expected "Name: value"`);
    headers[match[1]!] = match[2]!;
  }
  return headers;
}

function notBeforeOption(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) {
    throw new InputError(
      `--not-before ${JSON.stringify(text)} is not an ISO 8601 time (e.g. 2026-05-01T09:00:00Z)`,
    );
  }
  return at;
}

/** `jobstash trigger`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const { values, positionals } = parseCommand(
    "trigger",
    argv,
    {
      ...OPS_OPTIONS,
      "input-file": { type: "string", short: "i" },
      delay: { type: "string" },
      "not-before": { type: "string" },
      "deduplication-id": { type: "string" },
      "content-based-deduplication": { type: "boolean" },
      retries: { type: "string" },
      "retry-delay": { type: "string" },
      timeout: { type: "string" },
      label: { type: "string" },
      queue: { type: "string" },
      "flow-control": { type: "string" },
      header: { type: "string", short: "H", multiple: true },
      wait: { type: "boolean" },
    },
    { max: 2, usage: "<jobId> [json]" },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [jobId, json] = positionals;
  if (!jobId)
    throw new InputError("which job? `jobstash trigger <jobId> [json]` (`--help` shows the options)");
  if (json !== undefined && values["input-file"] !== undefined) {
    throw new InputError("give the input once: as a JSON argument, as - (stdin), or with --input-file");
  }
  const source: InputSource | undefined =
    values["input-file"] !== undefined
      ? { kind: "file", path: values["input-file"] }
      : json === "-"
        ? { kind: "stdin" }
        : json !== undefined
          ? { kind: "argument", text: json }
          : undefined;
  const retryDelay = values["retry-delay"];
  const options: TriggerOptions = {
    delay: values.delay as TriggerOptions["delay"],
    notBefore: notBeforeOption(values["not-before"]),
    deduplicationId: values["deduplication-id"],
    contentBasedDeduplication: values["content-based-deduplication"],
    retries: wholeNumber("--retries", values.retries, 0),
    retryDelay: retryDelay !== undefined && /^\d+$/.test(retryDelay) ? Number(retryDelay) : retryDelay,
    timeout: values.timeout as TriggerOptions["timeout"],
    label: values.label,
    queue: values.queue,
    flowControl: values["flow-control"] === undefined ? undefined : flowControlOption(values["flow-control"]),
    headers: headerOptions(values.header),
  };
  for (const key of Object.keys(options) as (keyof TriggerOptions)[]) {
    if (options[key] === undefined) delete options[key];
  }

  const ops = await openOps(values, { needRegistry: true });
  const job = ops.job(jobId);
  const read = readInput(source);
  const input = read ? parseJsonInput(read.text, read.where) : undefined;
  const checked = await checkInput(job, input);
  if (!checked.ok) throw invalidInput(job, checked.issues, `the input (${read?.where ?? "none given"})`);
  const qstash = ops.qstash();
  let messageId: string;
  try {
    messageId = await ops.requireRegistry().trigger(jobId, input, options);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InvalidPayloadError) {
      // Settings checked by trigger itself (durations, flow control, the base URL): the user's to fix.
      // `trigger("greet"): flowControl.key must be ...` reads as the flag given: `--flow-control key must be ...`.
      const message = error.message.replace(
        /^trigger\("[^"]*"\): (\w+)(?:\.(\w+))?/,
        (whole, field: string, sub: string | undefined) => {
          const flag = FLAG_OF[field];
          if (!flag || options[field as keyof TriggerOptions] === undefined)
            return whole.replace(/^trigger\("[^"]*"\): /, "");
          return sub ? `${flag} ${sub}` : flag;
        },
      );
      throw new InputError(`${message}; nothing was sent`);
    }
    throw qstashFailure(error, qstash, ops.sources);
  }
  const url = ops.registry!.url(jobId);
  if (!values.wait) {
    if (values.json) printJson({ messageId, jobId, url });
    else console.log(messageId);
    return 0;
  }
  if (!values.json) console.log(messageId);
  return waitFor(ops, { messageId, jobId, url }, Boolean(values.json));
}

/** Follow a message to its final state; print its events and outcome. 0 delivered, 1 not. */
async function waitFor(
  ops: Ops,
  message: { messageId: string; jobId: string; url: string },
  json: boolean,
): Promise<number> {
  const history = new MessageHistory();
  const events: ReturnType<typeof eventJson>[] = [];
  let final: LogEntry | undefined;
  let retried: number | undefined;
  await followLogs(
    ops,
    { messageId: message.messageId },
    {
      onEntry: (entry) => {
        const known = history.see(entry);
        if (json) events.push(eventJson(entry, ops, known));
        else console.log(formatEvent(toEvent(entry, ops, known)));
        if (FINAL_STATES.has(entry.state)) {
          final = entry;
          retried = known.retried;
        }
      },
      stop: () => final !== undefined,
    },
  );
  const last = final!;
  const delivered = last.state === "DELIVERED";
  const body = last.responseBody ? Buffer.from(last.responseBody, "base64").toString("utf8") : undefined;
  const output = delivered && body !== undefined ? parsedOrText(body) : undefined;
  const { reason } = toEvent(last, ops);
  let dlqId: string | undefined;
  if (last.state === "FAILED") {
    const { messages } = await ops.api((q) =>
      listDlq(q, { count: 1, filter: { messageId: message.messageId } }),
    );
    dlqId = messages[0]?.dlqId;
  }
  const attempts = retried === undefined ? undefined : retried + 1;
  if (json) {
    printJson({
      ...message,
      outcome: delivered ? "delivered" : last.state === "FAILED" ? "failed" : "cancelled",
      ...(last.responseStatus !== undefined && { status: last.responseStatus }),
      ...(attempts !== undefined && { attempts }),
      ...(output !== undefined && { output }),
      ...(!delivered && reason !== undefined && { reason }),
      ...(dlqId && { dlqId }),
      events,
    });
  } else if (delivered) {
    const shown =
      output === undefined ? "" : `: ${typeof output === "string" ? output : JSON.stringify(output)}`;
    console.log(
      `delivered (${last.responseStatus ?? "ok"}${attempts ? `, attempt ${attempts}` : ""})${shown}`,
    );
  } else if (last.state === "FAILED") {
    console.log(
      `failed for good${last.responseStatus !== undefined ? ` (${last.responseStatus})` : ""}${reason ? `: ${reason}` : ""}` +
        (dlqId ? `\nin the DLQ as ${dlqId}: \`jobstash dlq show ${dlqId}\`` : ""),
    );
  } else {
    console.log("cancelled");
  }
  return delivered ? 0 : 1;
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
