/** Longest reason shown: a log line stays one readable line. */
const MAX_REASON = 160;
/** Bodies up to this size are parsed for an error message; longer ones are only excerpted. */
const MAX_PARSED = 64 * 1024;

const decoder = new TextDecoder();

/**
 * Why an attempt failed, on one line, from its response body: the `message` of jobstash's
 * receiver's `{"error":{"code","message","issues"}}` (with its first issue), a top-level
 * `error` or `message` string as other servers send, else a trimmed excerpt of the body.
 * Control characters are dropped so a body cannot restyle the terminal.
 *
 * @example
 * responseReason(Buffer.from('{"error":{"code":"NON_RETRYABLE","message":"address bounced"}}')); // "address bounced"
 */
export function responseReason(body: Uint8Array | undefined, max = MAX_REASON): string | undefined {
  if (!body?.length) return undefined;
  const text = decoder.decode(body.length > MAX_PARSED ? body.subarray(0, 4 * max) : body);
  const reason = (body.length <= MAX_PARSED && messageOf(text)) || text;
  const line = reason
    .replace(/\s+/g, " ")
    .replace(/\p{Cc}/gu, "")
    .trim();
  if (!line) return undefined;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function messageOf(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { error, message } = parsed as { error?: unknown; message?: unknown };
  if (typeof error === "string") return error;
  if (typeof message === "string") return message;
  if (typeof error !== "object" || error === null) return undefined;
  const inner = error as { message?: unknown; issues?: unknown };
  if (typeof inner.message !== "string") return undefined;
  const issues = Array.isArray(inner.issues) ? inner.issues : [];
  const first = issues[0] as { path?: unknown; message?: unknown } | undefined;
  if (typeof first?.message !== "string") return inner.message;
  const where = typeof first.path === "string" && first.path ? `${first.path}: ` : "";
  const more = issues.length > 1 ? `, +${issues.length - 1} more` : "";
  return `${inner.message} (${where}${first.message}${more})`;
}
