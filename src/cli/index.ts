import { parseArgs } from "node:util";

/**
 * The `jobstash` command. Each command lives in its own module and is imported only when
 * it runs, so `jobstash sync` never loads the dev server and vice versa.
 */
interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number | undefined> }>;
}

const commands: Record<string, Command> = {
  dev: { summary: "Run a QStash-compatible server locally", load: () => import("./dev.js") },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    "Usage: jobstash <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `jobstash <command> --help` for a command's options.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv.slice(0, 1), strict: false, allowPositionals: true });
  const name = positionals[0];
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`jobstash: unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return (await mod.run(argv.slice(1))) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Errors that carry an exit code (configuration, drift) print their message only.
    const err = error as { message?: string; exitCode?: number };
    console.error(`jobstash: ${err.message ?? String(error)}`);
    process.exitCode = typeof err.exitCode === "number" ? err.exitCode : 1;
  },
);
