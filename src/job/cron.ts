/**
 * Definition-time check of a 5-field cron expression, the dialect QStash schedules accept.
 *
 * Why not cron-parser here: `defineJob` runs in every receiver bundle (Workers, Edge), and
 * cron-parser brings luxon with it, which alone outweighs the rest of the receiver. This
 * only answers "is it valid, and if not, what is wrong"; sync and the dev server compute
 * fire times with cron-parser, and test/job/cron.test.ts checks that both agree.
 */

/** A field's name, its range, and the names its values may have instead (in order from `min`). */
type Field = readonly [name: string, min: number, max: number, names?: string];

const FIELDS: readonly Field[] = [
  ["minute", 0, 59],
  ["hour", 0, 23],
  ["day of month", 1, 31],
  ["month", 1, 12, "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC"],
  // 7 is Sunday as well as 0, as in every cron since Vixie's.
  ["day of week", 0, 7, "SUN MON TUE WED THU FRI SAT"],
];

/** One item of a field's comma-separated list: `*`, `5`, `1-5` or `MON-FRI`, each with an optional `/step`. */
const ITEM = /^(?:\*|(\w+)(?:-(\w+))?)(?:\/(\d+))?$/;

function itemProblem(item: string, [name, min, max, names]: Field): string | undefined {
  const match = ITEM.exec(item);
  if (!match) return `${name} "${item}" is malformed`;
  const [, from, to, step] = match;
  if (Number(step) === 0) return `${name} step "${step}" must be a positive integer`;
  let start = min;
  for (const text of [from, to]) {
    if (text === undefined) continue;
    const index = names?.split(" ").indexOf(text.toUpperCase()) ?? -1;
    if (index < 0 && !/^\d+$/.test(text)) return `${name} "${text}" is not a number`;
    const n = index < 0 ? Number(text) : index + min;
    if (n < min || n > max) return `${name} ${n} is out of range ${min}-${max}`;
    if (n < start) return `${name} range "${item}" ends before it starts`;
    start = n;
  }
  return undefined;
}

/**
 * The problem with a cron expression, or `undefined` when it is a valid 5-field expression
 * (minute hour day-of-month month day-of-week; `*`, lists, ranges, steps, month and weekday names).
 */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (/^(CRON_)?TZ=/i.test(trimmed)) return "put the time zone in `tz`, not in the cron expression";
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) {
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  }
  for (const [i, part] of parts.entries()) {
    for (const item of part.split(",")) {
      const problem = itemProblem(item, FIELDS[i]!);
      if (problem) return problem;
    }
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
