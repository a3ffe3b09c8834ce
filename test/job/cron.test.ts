import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { cronProblem } from "../../src/job/cron.js";

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

describe("cron validator", () => {
  it.each(valid)("accepts %j, as cron-parser does", (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
    expect(cronParserAccepts(expression)).toBe(true);
  });

  it.each(invalid)("rejects %j, as cron-parser does", (expression) => {
    expect(cronProblem(expression)).toEqual(expect.any(String));
    expect(cronParserAccepts(expression)).toBe(false);
  });
});
