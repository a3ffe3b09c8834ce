import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { cronProblem, cronStepProblem } from "../../src/job/cron.js";

/**
 * defineJob checks crons with a small validator so receivers need not bundle cron-parser;
 * sync and the dev server use cron-parser. The two must agree on what is valid.
 */
const valid = [
  "* * * * *",
  "0 9 * * 1",
  "*/15 * * * *",
  "0 0 1 1 *",
  "5,10,15 0-6 * * *",
  "0 9-17/2 * * MON-FRI",
  "0 0 * JAN,JUL sun",
  "59 23 31 12 7",
  "0 0 1 * *",
  "1-59/7 */3 1-31/2 */4 0-6",
  "30 4 1,15 * 5",
  "0 22 * * 1-5",
  "  0 12 * * *  ",
];
const invalid = [
  "",
  "* * * *",
  "* * * * * *",
  "60 * * * *",
  "* 24 * * *",
  "* * 0 * *",
  "* * 32 * *",
  "* * * 13 *",
  "* * * 0 *",
  "* * * * 8",
  "*/0 * * * *",
  "5-1 * * * *",
  "a * * * *",
  "* * * FOO *",
  "1,,2 * * * *",
  "-1 * * * *",
];

function cronParserAccepts(expression: string): boolean {
  try {
    CronExpressionParser.parse(expression.trim(), { strict: false });
    return expression.trim().split(/\s+/).length === 5;
  } catch {
    return false;
  }
}

/** Valid crons with a step that never repeats within its range, and what each amounts to. */
const steppedPast = [
  ["*/90 * * * *", "0 * * * *"],
  ["*/60 * * * *", "0 * * * *"],
  ["10-20/30 * * * *", "10 * * * *"],
  ["5/90 * * * *", "5 * * * *"],
  ["15,*/90 * * * *", "15,0 * * * *"],
  ["0 */30 * * *", "0 0 * * *"],
  ["0 8-10/5 * * *", "0 8 * * *"],
  ["0 0 */40 * *", "0 0 1 * *"],
  ["0 0 1-31/31 * *", "0 0 1 * *"],
  ["0 0 1 */13 *", "0 0 1 1 *"],
  ["0 0 1 JAN-MAR/3 *", "0 0 1 1 *"],
  ["0 0 * * */7", "0 0 * * 0"],
  ["0 0 * * MON-FRI/5", "0 0 * * 1"],
] as const;

/** The next `count` fire times (UTC) cron-parser computes, as ISO strings. */
function fireTimes(expression: string, count: number) {
  const cron = CronExpressionParser.parse(expression, {
    currentDate: new Date("2026-01-01T00:00:00Z"),
    tz: "UTC",
    strict: false,
  });
  return Array.from({ length: count }, () => cron.next().toISOString());
}

describe("cron validator", () => {
  it.each(valid)("accepts %j, as cron-parser does", (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
    expect(cronStepProblem(expression)).toBeUndefined();
    expect(cronParserAccepts(expression)).toBe(true);
  });

  it.each(invalid)("rejects %j, as cron-parser does", (expression) => {
    expect(cronProblem(expression)).toEqual(expect.any(String));
    expect(cronParserAccepts(expression)).toBe(false);
  });
});

describe("steps past a field's range", () => {
  it.each(steppedPast)("rejects %j, which cron-parser runs as %j", (expression, amounts) => {
    expect(cronProblem(expression)).toBeUndefined();
    expect(cronParserAccepts(expression)).toBe(true);
    const problem = cronStepProblem(expression);
    expect(problem).toContain(`use "${amounts}"`);
    // The suggested expression fires at exactly the same times.
    expect(fireTimes(amounts, 40)).toEqual(fireTimes(expression, 40));
  });

  it("names the field, the step, the range and the fix", () => {
    expect(cronStepProblem("*/90 * * * *")).toBe(
      'minute step 90 is larger than the field\'s range 0-59, so "*/90" fires only at minute 0 of each hour; use "0 * * * *", or a step of at most 59',
    );
    expect(cronStepProblem("0 10-20/30 * * *")).toBe(
      'hour step 30 is larger than the range 10-20, so "10-20/30" fires only at hour 10 of each day; use "0 10 * * *", or a step of at most 10',
    );
    expect(cronStepProblem("0 0 * * 3/7")).toBe(
      'day of week step 7 is larger than the range 3-6, so "3/7" fires only on day 3 of each week; use "0 0 * * 3", or a step of at most 3',
    );
  });

  // Each field, every step from 1 up: accepted while it repeats within the field, refused from
  // the first step that does not.
  it.each([
    ["minute", (s: number) => `*/${s} * * * *`, 59],
    ["hour", (s: number) => `0 */${s} * * *`, 23],
    ["day of month", (s: number) => `0 0 */${s} * *`, 30],
    ["month", (s: number) => `0 0 1 */${s} *`, 11],
    ["day of week", (s: number) => `0 0 * * */${s}`, 6],
  ] as const)(
    "%s: accepts every step that repeats within the field and refuses the next",
    (name, cron, span) => {
      for (let step = 1; step <= span; step++)
        expect(cronStepProblem(cron(step)), cron(step)).toBeUndefined();
      expect(cronStepProblem(cron(span + 1))).toMatch(new RegExp(`^${name} step ${span + 1} is larger than`));
    },
  );
});
