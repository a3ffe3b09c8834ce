/**
 * Definition-time check of a 5-field cron expression, the dialect QStash schedules accept.
 *
 * Why not cron-parser here: `defineJob` runs in every receiver bundle (Workers, Edge), and
 * cron-parser brings luxon with it, which alone outweighs the rest of the receiver. This
 * only answers "is it valid, and if not, what is wrong"; sync and the dev server compute
 * fire times with cron-parser, and test/job/cron.test.ts checks that both agree.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  /** The names its values may have instead, in order from `min`. */
  names?: string;
  /** The last value a step counts through: 6 for the weekday, whose 7 is Sunday again. */
  last: number;
  /** Where in its cycle a value fires, for messages: `at minute 5 of each hour`. */
  at: string;
}

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59, last: 59, at: "at minute # of each hour" },
  { name: "hour", min: 0, max: 23, last: 23, at: "at hour # of each day" },
  { name: "day of month", min: 1, max: 31, last: 31, at: "on day # of each month" },
  {
    name: "month",
    min: 1,
    max: 12,
    last: 12,
    names: "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC",
    at: "in month # of each year",
  },
  // 7 is Sunday as well as 0, as in every cron since Vixie's.
  {
    name: "day of week",
    min: 0,
    max: 7,
    last: 6,
    names: "SUN MON TUE WED THU FRI SAT",
    at: "on day # of each week",
  },
];

/** One item of a field's comma-separated list: `*`, `5`, `1-5` or `MON-FRI`, each with an optional `/step`. */
const ITEM = /^(?:\*|(\w+)(?:-(\w+))?)(?:\/(\d+))?$/;

/** An item read as the values it runs through: `from` to `to` every `step`. */
interface Item {
  text: string;
  from: number;
  to: number;
  step: number | undefined;
  /** Whether the item spans the whole field (`*`). */
  whole: boolean;
}

function readItem(text: string, field: Field): Item | string {
  const { name, min, max, names } = field;
  const match = ITEM.exec(text);
  if (!match) return `${name} "${text}" is malformed`;
  const [, from, to, step] = match;
  if (Number(step) === 0) return `${name} step "${step}" must be a positive integer`;
  const bounds: number[] = [];
  for (const part of [from, to]) {
    if (part === undefined) continue;
    const index = names?.split(" ").indexOf(part.toUpperCase()) ?? -1;
    if (index < 0 && !/^\d+$/.test(part)) return `${name} "${part}" is not a number`;
    const n = index < 0 ? Number(part) : index + min;
    if (n < min || n > max) return `${name} ${n} is out of range ${min}-${max}`;
    if (n < (bounds[0] ?? min)) return `${name} range "${text}" ends before it starts`;
    bounds.push(n);
  }
  const [start, end] = bounds;
  return {
    text,
    from: start ?? min,
    // `5/15` runs from 5 to the end of the field, as in cron-parser and Vixie cron.
    to: end ?? (start === undefined || step !== undefined ? field.last : start),
    step: step === undefined ? undefined : Number(step),
    whole: start === undefined,
  };
}

/** The expression's fields, each a list of items, or the problem that stops reading it. */
function readCron(expression: string): Item[][] | string {
  const trimmed = expression.trim();
  if (/^(CRON_)?TZ=/i.test(trimmed)) return "put the time zone in `tz`, not in the cron expression";
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) {
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  }
  const fields: Item[][] = [];
  for (const [i, part] of parts.entries()) {
    const items: Item[] = [];
    for (const text of part.split(",")) {
      const item = readItem(text, FIELDS[i]!);
      if (typeof item === "string") return item;
      items.push(item);
    }
    fields.push(items);
  }
  return fields;
}

/**
 * The problem with a cron expression, or `undefined` when it is a valid 5-field expression
 * (minute hour day-of-month month day-of-week; `*`, lists, ranges, steps, month and weekday names).
 */
export function cronProblem(expression: string): string | undefined {
  const read = readCron(expression);
  return typeof read === "string" ? read : undefined;
}

/**
 * For a valid expression, a step that never repeats within its range: `*\/90` in the minute
 * field fires only at minute 0, since steps start over every hour, so "every 90 minutes" is
 * really "hourly". Cron (and QStash) accept it; jobstash refuses it at definition time, with
 * the expression it amounts to. `undefined` when every step repeats.
 */
export function cronStepProblem(expression: string): string | undefined {
  const fields = readCron(expression);
  if (typeof fields === "string") return undefined;
  for (const [i, items] of fields.entries()) {
    const item = items.find(({ step, from, to }) => step !== undefined && step > to - from);
    if (!item) continue;
    const field = FIELDS[i]!;
    const span = item.to - item.from;
    const range = item.whole
      ? `the field's range ${field.min}-${field.last}`
      : `the range ${item.from}-${item.to}`;
    // What the expression amounts to: the item reduced to its one value.
    const texts = items.map((other) => (other === item ? String(item.from) : other.text));
    const fixed = fields.map((list, j) =>
      (j === i ? [...new Set(texts)] : list.map((other) => other.text)).join(","),
    );
    const fires = field.at.replace("#", String(item.from));
    const alternative = span > 0 ? `, or a step of at most ${span}` : "";
    return `${field.name} step ${item.step} is larger than ${range}, so "${item.text}" fires only ${fires}; use "${fixed.join(" ")}"${alternative}`;
  }
  return undefined;
}

/** Whether the runtime knows an IANA time zone (Intl is everywhere jobstash runs). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
