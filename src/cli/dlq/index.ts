import { InputError } from "../errors.js";
import { didYouMean } from "../shared.js";

const HELP = `Usage: jobstash dlq <command> [options]

The dead-letter queue: messages that failed for good, decoded and checked against each
job's current schema (the job is found from the entry's URL, <baseUrl>/<jobId>).

Commands:
  list [--job <id>] [--since <when>]      One row per entry: job, failure reason, time, whether
                                          the body still fits the job's schema
  show <dlqId>                            The decoded body and the last response
  retry <dlqId...> | --all [filters]      Send entries again as they are (new messages)
  delete <dlqId...> | --all [filters]     Delete entries (--all asks first; --yes skips that)
  replay <dlqId> [--input <json> | --edit]
                                          Publish an edited input as a new message of the same
                                          job (checked against its schema), then delete the entry

Run \`jobstash dlq <command> --help\` for a command's options and examples.`;

const COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number | undefined> }>> = {
  list: () => import("./list.js"),
  show: () => import("./show.js"),
  retry: () => import("./bulk.js").then((m) => ({ run: m.retry })),
  delete: () => import("./bulk.js").then((m) => ({ run: m.remove })),
  replay: () => import("./replay.js"),
};

/** `jobstash dlq <command>`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    const near = didYouMean(name, Object.keys(COMMANDS));
    throw new InputError(
      `unknown command ${JSON.stringify(name)}${near ? `; did you mean "dlq ${near}"?` : ""} (one of ${Object.keys(COMMANDS).join(", ")})`,
    );
  }
  return (await load()).run(rest);
}
