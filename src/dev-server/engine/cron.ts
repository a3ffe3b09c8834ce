import { CronExpressionParser } from "cron-parser";
import { badRequest } from "./errors.js";

/** Next fire time after `after` (ms) for a cron with an optional `CRON_TZ=` prefix; 400 when invalid. */
export function nextCronTime(cron: string, after: number): number {
  let expr = cron.trim();
  let tz: string | undefined;
  const m = /^CRON_TZ=(\S+)\s+(.*)$/.exec(expr);
  if (m) {
    tz = m[1]!;
    expr = m[2]!.trim();
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
    } catch {
      throw badRequest(`invalid CRON_TZ ${JSON.stringify(tz)}: use an IANA time zone such as "Europe/Paris"`);
    }
  }
  if (expr.split(/\s+/).length !== 5) {
    throw badRequest(
      `invalid cron ${JSON.stringify(cron)}: use 5 fields (minute hour day-of-month month day-of-week)`,
    );
  }
  try {
    return CronExpressionParser.parse(expr, { currentDate: new Date(after), tz })
      .next()
      .getTime();
  } catch (error) {
    throw badRequest(`invalid cron ${JSON.stringify(cron)}: ${(error as Error).message}`);
  }
}
