import { readFileSync } from "node:fs";
import { exitCodeOf, InputError } from "./errors.js";
import { didYouMean } from "./shared.js";

/**
 * The `jobstash` command. Each command lives in its own module and is imported only when
 * it runs, so `jobstash sync` never loads the dev server and vice versa.
 */
interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number | undefined> }>;
}

const commands: Record<string, Command> = {
  init: {
    summary: "Add jobstash to an existing app (a job, the config, the route, env lines)",
    load: () => import("./init/index.js"),
  },
  dev: { summary: "Run a QStash-compatible server locally", load: () => import("./dev.js") },
  trigger: {
    summary: "Check an input against a job's schema and publish it",
    load: () => import("./trigger.js"),
  },
  logs: { summary: "Print messages' lifecycle events, or follow them live", load: () => import("./logs.js") },
  dlq: {
    summary: "List, show, retry, delete or replay dead-lettered messages",
    load: () => import("./dlq/index.js"),
  },
  schedules: {
    summary: "List QStash's schedules: owner, cron, next runs, last run",
    load: () => import("./schedules.js"),
  },
  doctor: {
    summary: "Check the setup and probe a job's URL, explaining what is wrong",
    load: () => import("./doctor/index.js"),
  },
  sync: {
    summary: "Make QStash schedules, queues and flow-control keys match the code",
    load: () => import("./sync.js"),
  },
};

/** Commands whose `--json` output includes their errors (`{ "error": { message, exitCode, ... } }`). */
const JSON_ERRORS = new Set(["trigger", "logs", "dlq", "schedules", "doctor", "init"]);

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    "Usage: jobstash <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Options:",
    "  -v, --version  Print the version",
    "  -h, --help     Show this help",
    "",
    "Run `jobstash <command> --help` for a command's options.",
  ].join("\n");
}

/**
 * The package's version, from its package.json. This file is the CLI's entry, built to
 * dist/cli/index.js (never into a shared chunk), so package.json is two folders up both in
 * the published package and in the sources.
 */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return pkg.version;
}

/** Runs the command; its errors are printed by {@link fail} as `jobstash <command>: message`. */
async function main(name: string | undefined, argv: string[]): Promise<number> {
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return 0;
  }
  if (name === "--version" || name === "-v") {
    console.log(version());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    // Options are shown as typed (--version), command names quoted ("sync").
    const option = name.startsWith("-");
    const show = (text: string) => (option ? text : JSON.stringify(text));
    const near =
      name.length > 2 && didYouMean(name, option ? ["--version", "--help"] : Object.keys(commands));
    throw new InputError(
      `unknown ${option ? "option" : "command"} ${show(name)}${near ? `; did you mean ${show(near)}?` : ""}\n\n${usage()}`,
    );
  }
  const mod = await command.load();
  return (await mod.run(argv)) ?? 0;
}

/**
 * The one place an error ends up: its message on stderr after `jobstash <command>:` (never a
 * stack: every error the CLI expects says what to fix), and the exit code its kind maps to.
 */
function fail(error: unknown, name: string | undefined, argv: string[]): number {
  const prefix = name && commands[name] ? `jobstash ${name}` : "jobstash";
  const message = (error as Error | undefined)?.message ?? String(error);
  console.error(`${prefix}: ${message}`);
  const exitCode = exitCodeOf(error);
  // With --json, the operating commands put the error on stdout too, so a script reads JSON either way.
  if (argv.includes("--json") && name && JSON_ERRORS.has(name)) {
    const details = error instanceof InputError ? error.details : undefined;
    console.log(JSON.stringify({ error: { message, exitCode, ...details } }, null, 2));
  }
  return exitCode;
}

const [name, ...rest] = process.argv.slice(2);
main(name, rest).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = fail(error, name, rest);
  },
);
