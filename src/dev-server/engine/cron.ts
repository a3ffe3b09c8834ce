import { CronExpressionParser } from "cron-parser";
import { isTimeZone } from "../../job/cron.js";
import { splitCronZone } from "../../protocol.js";
import { badRequest } from "./errors.js";

/**
 * Next fire time after `after` (ms) for a cron with an optional `CRON_TZ=` prefix; 400 when
 * invalid. Without a prefix the cron is read in UTC, as QStash reads it, whatever the zone of
 * the machine the dev server runs on.
 */
export function nextCronTime(cron: string, after: number): number {
  const { cron: expr, tz } = splitCronZone(cron);
  if (!isTimeZone(tz)) {
    throw badRequest(`invalid CRON_TZ ${JSON.stringify(tz)}: use an IANA time zone such as "Europe/Paris"`);
  }
  if (expr.split(" ").length !== 5) {
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
