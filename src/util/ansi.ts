/**
 * Our own few ANSI codes, for the plan sync prints and the CLI's tables: `util.styleText`
 * decides by itself whether stdout can show colour (and on Node 20 cannot be told otherwise),
 * while callers here have already decided.
 */
const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  gray: [90, 39],
} as const;

/** A style {@link painter} knows. */
export type Style = keyof typeof CODES;

/** Colour only where it can be seen and is wanted: never with NO_COLOR, always with FORCE_COLOR. */
export function supportsColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY) && process.env.TERM !== "dumb";
}

/** A function that styles text, or leaves it plain when `color` is off. */
export function painter(color: boolean): (style: Style, text: string) => string {
  return (style, text) => (color ? `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m` : text);
}
