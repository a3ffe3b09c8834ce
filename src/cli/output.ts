import { createInterface } from "node:readline/promises";
import { painter, type Style, supportsColor } from "../util/ansi.js";
import { InputError } from "./errors.js";

/**
 * How the CLI writes for people: colour only on a terminal that wants it (never with
 * NO_COLOR), tables cut to the terminal's width, a progress line for long operations, and a
 * question before anything destructive. JSON output bypasses all of it.
 */

/** A function that styles text for `stream`, or leaves it plain where colour is not wanted. */
export function styler(stream: { isTTY?: boolean } = process.stdout): (tone: Style, text: string) => string {
  return painter(supportsColor(stream));
}

/** Columns to fit: the terminal's, `COLUMNS` when output is not a terminal, else no limit. */
function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (stream.isTTY && stream.columns) return stream.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : Number.POSITIVE_INFINITY;
}

/** A table column: its heading, and whether it gives up width first when the table is too wide. */
export interface Column {
  title: string;
  /** Cut this column (with …) to make the table fit. */
  shrink?: boolean;
  /** Style a cell (after padding, so widths stay right). */
  tone?: (cell: string) => Style | undefined;
}

/**
 * Rows under headings, columns two spaces apart, cut to `width`: shrinking columns give up
 * width first (down to 12 characters each), then the last column is cut at the edge.
 */
export function table(columns: Column[], rows: string[][], width = terminalWidth()): string {
  const style = styler();
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? "").length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  for (let i = 0; i < columns.length && total() > width; i++) {
    if (columns[i]!.shrink) widths[i] = Math.max(12, widths[i]! - (total() - width));
  }
  // Still too wide: the last column is cut at the edge.
  const last = columns.length - 1;
  if (total() > width) widths[last] = Math.max(4, widths[last]! - (total() - width));
  const cut = (text: string, w: number) => (text.length > w ? `${text.slice(0, Math.max(0, w - 1))}…` : text);
  const line = (cells: string[], head: boolean) =>
    cells
      .map((cell, i) => {
        const last = i === cells.length - 1;
        const text = cut(cell, widths[i]!);
        const padded = last ? text : text.padEnd(widths[i]!);
        const tone = head ? "bold" : columns[i]!.tone?.(cell);
        return tone ? style(tone, padded) : padded;
      })
      .join("  ");
  return [
    line(
      columns.map((c) => c.title),
      true,
    ),
    ...rows.map((r) => line(r, false)),
  ].join("\n");
}

/**
 * Progress of a long operation on stderr: a line rewritten in place on a terminal (from 20
 * items; a count alone, from 100, when the total is not known yet); in a log (CI), a line at
 * each quarter of a run of 100 or more. `end()` finishes the terminal's line.
 */
export function progress(label: string, total: number | undefined, options: { quiet?: boolean } = {}) {
  const stream = process.stderr;
  const tty = Boolean(stream.isTTY);
  let reported = 0;
  let shown = false;
  return {
    update(done: number) {
      if (options.quiet) return;
      if (tty) {
        // A count alone (the total not known yet) only once it takes more than one page.
        if (total === undefined ? done < 100 : total < 20) return;
        stream.write(`\r  ${label} ${done}${total === undefined ? "" : `/${total}`}`);
        shown = true;
      } else if (total !== undefined && total >= 100 && Math.floor((done * 4) / total) > reported) {
        reported = Math.floor((done * 4) / total);
        stream.write(`  ${label} ${done}/${total}\n`);
      }
    },
    end() {
      if (shown) stream.write("\n");
      shown = false;
    },
  };
}

/**
 * Ask before a destructive operation; `yes` answers for the user. Without a terminal to ask
 * on, refuses with an InputError saying to pass --yes (exit 2), so a script never hangs or
 * deletes by accident.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    throw new InputError(`${question.replace(/\?$/, "")}: pass --yes to confirm (no terminal to ask on)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Print a value as JSON on stdout, two-space indented (one line with `line`, for streams). */
export function printJson(value: unknown, options: { line?: boolean } = {}): void {
  console.log(options.line ? JSON.stringify(value) : JSON.stringify(value, null, 2));
}
