import { type ParseArgsConfig, parseArgs } from "node:util";
import { InputError } from "./errors.js";

/** Where an app usually mounts the receiver in development, shown where a base URL is wanted. */
export const EXAMPLE_BASE_URL = "http://localhost:3000/api/jobs";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * `parseArgs` for one command, its mistakes turned into `InputError`s in the CLI's own
 * words: an unknown option suggests the nearest known one.
 */
export function parseOptions<T extends Options>(command: string, argv: string[], options: T) {
  return parseCommand(command, argv, options).values;
}

/** The arguments a command takes besides its options. */
export interface Positionals {
  /** How many at most. */
  max: number;
  /** How they read in the usage line, e.g. `<jobId> [json]`. */
  usage: string;
}

/**
 * {@link parseOptions} for a command that also takes arguments (`jobstash trigger <jobId>`):
 * the options and the arguments, at most `positionals.max` of them.
 */
export function parseCommand<T extends Options>(
  command: string,
  argv: string[],
  options: T,
  positionals?: Positionals,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: positionals !== undefined });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const unknown = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && /Unknown option '([^']+)'/.exec(message)?.[1];
    if (unknown) {
      const names = Object.entries(options).flatMap(([name, o]) => [
        `--${name}`,
        ...(o.short ? [`-${o.short}`] : []),
      ]);
      // Any one-letter flag is one edit from any other: no guess for those.
      const near = unknown.length > 2 ? didYouMean(unknown, names) : undefined;
      throw new InputError(
        `unknown option ${unknown}${near ? `; did you mean ${near}?` : ""} (\`jobstash ${command} --help\` lists the options)`,
      );
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      const argument = /'([^']*)'/.exec(message)?.[1] ?? "";
      throw new InputError(
        `unexpected argument ${JSON.stringify(argument)}: jobstash ${command} takes options only`,
      );
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      // Node says "Option '-p, --port <value>' argument missing" (or "... is ambiguous", over
      // three lines, for a value that starts with "-"): one line of ours instead.
      const option = /--[\w-]+/.exec(message)?.[0] ?? "the option";
      throw new InputError(
        /does not take/.test(message)
          ? `option ${option} takes no value`
          : `option ${option} needs a value: ${option} <value>, or ${option}=<value> if it starts with "-"`,
      );
    }
    throw error;
  }
  if (positionals && parsed.positionals.length > positionals.max) {
    const extra = parsed.positionals[positionals.max]!;
    throw new InputError(
      `unexpected argument ${JSON.stringify(extra)}: jobstash ${command} takes ${positionals.usage} (quote a JSON argument as one: '{"a": 1}')`,
    );
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** The known name nearest to `input` by Levenshtein distance, if it is near enough to be a typo. */
export function didYouMean(input: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of known) {
    const d = levenshtein(input, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  // Two edits catch a swapped pair of letters ("snyc"); longer names tolerate a few more.
  return bestDistance <= Math.max(2, Math.floor(input.length / 4)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}
