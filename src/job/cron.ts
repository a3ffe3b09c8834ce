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
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  // 7 is Sunday as well as 0, as in every cron since Vixie's.
  { name: "day of week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

function value(text: string, field: Field): number {
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index >= 0) return index + field.min;
  if (!/^\d+$/.test(text)) throw new Error(`${field.name} "${text}" is not a number`);
  const n = Number(text);
  if (n < field.min || n > field.max) {
    throw new Error(`${field.name} ${n} is out of range ${field.min}-${field.max}`);
  }
  return n;
}

function checkPart(part: string, field: Field): void {
  const [range, step, extra] = part.split("/");
  if (extra !== undefined || range === undefined || range === "") {
    throw new Error(`${field.name} "${part}" is malformed`);
  }
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) === 0)) {
    throw new Error(`${field.name} step "${step}" must be a positive integer`);
  }
  if (range === "*") return;
  const [from, to, more] = range.split("-");
  if (more !== undefined || from === undefined)
    throw new Error(`${field.name} range "${range}" is malformed`);
  const start = value(from, field);
  if (to !== undefined && value(to, field) < start) {
    throw new Error(`${field.name} range "${range}" ends before it starts`);
  }
}

/**
 * The problem with a cron expression, or `undefined` when it is a valid 5-field expression
 * (minute hour day-of-month month day-of-week; `*`, lists, ranges, steps, month and weekday names).
 */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (/^CRON_TZ=|^TZ=/i.test(trimmed)) return "put the time zone in `tz`, not in the cron expression";
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) {
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  }
  try {
    parts.forEach((part, i) => {
      for (const item of part.split(",")) checkPart(item, FIELDS[i]!);
    });
  } catch (error) {
    return (error as Error).message;
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
