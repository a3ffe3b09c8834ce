/** Units accepted in duration strings, as QStash and Go's `time.ParseDuration` spell them. */
export type DurationUnit = "ms" | "s" | "m" | "h" | "d";

/**
 * A duration: a number of seconds, or a string such as `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"7d"`.
 * Compound strings (`"1h30m"`) are accepted at run time too.
 */
export type Duration = number | `${number}${DurationUnit}`;

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/y;

/**
 * Milliseconds in a duration, or `undefined` when the text is not one. Accepts a bare number
 * of seconds (`"10"`), one or more `<number><unit>` groups (`"1d10h30m"`, `"1.5s"`), with the
 * units of Go durations plus `d`. Used for user options and for QStash's wire values alike.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const match = PART.exec(s);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return total;
}

/** Milliseconds in a {@link Duration}; throws a `RangeError` that quotes a malformed value. */
export function toMilliseconds(duration: Duration | string): number {
  const ms = typeof duration === "number" ? duration * 1000 : parseDuration(duration);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(
      `invalid duration ${JSON.stringify(duration)}: use seconds as a number or a string like "30s", "5m", "2h", "1d"`,
    );
  }
  return ms;
}

/** Whole seconds, rounded up: QStash's duration headers take seconds. */
export function toSeconds(duration: Duration | string): number {
  return Math.ceil(toMilliseconds(duration) / 1000);
}
