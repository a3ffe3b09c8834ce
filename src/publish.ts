import { JobstashError } from "./errors.js";

/**
 * Publishing to QStash: the three calls trigger makes (publish, enqueue, batch), sent with
 * `fetch` as the official `@upstash/qstash` Client sends them. Not the Client itself: it is a
 * single class with every QStash API in it (about 10 KB gzipped, 40% of a Workers bundle),
 * and trigger needs three requests. test/publish-parity.test.ts sends the same messages
 * through both and requires identical requests, so an SDK upgrade that changes the wire shows
 * up there.
 */

/** One message as `buildRequest` makes it (the fields trigger sets). */
export interface PublishMessage {
  url: string;
  body: unknown;
  headers: Record<string, string>;
  retries?: number;
  retryDelay?: string;
  /** Seconds. */
  timeout?: number;
  /** Seconds. */
  delay?: number;
  /** Unix seconds. */
  notBefore?: number;
  deduplicationId?: string;
  contentBasedDeduplication?: boolean;
  flowControl?: { key: string; parallelism?: number; rate?: number; period?: number };
  callback?: string;
  failureCallback?: string;
  label?: string;
  queueName?: string;
}

/** Where to publish and as whom. */
export interface QStashTarget {
  url: string;
  token: string;
}

/** QStash refused a publish; `status` is its HTTP status (429: rate limited). */
export class PublishError extends JobstashError {
  static override readonly kind: string = "PublishError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The message's headers, lower-case as fetch sends them. Headers of the caller's reach the
 * job under QStash's forwarding prefix; QStash's own (`upstash-*`) pass as they are.
 */
export function messageHeaders(message: PublishMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    const lower = name.toLowerCase();
    const own = lower.startsWith("upstash-") || lower.startsWith("content-type");
    headers[own ? lower : `upstash-forward-${lower}`] = value;
  }
  const set = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined && value !== false) headers[name] = String(value);
  };
  set("content-type", "application/json");
  set("upstash-method", "POST");
  set("upstash-delay", message.delay === undefined ? undefined : `${message.delay.toFixed(0)}s`);
  set("upstash-not-before", message.notBefore?.toFixed(0));
  set("upstash-deduplication-id", message.deduplicationId);
  set("upstash-content-based-deduplication", message.contentBasedDeduplication);
  set("upstash-retries", message.retries?.toFixed(0));
  set("upstash-retry-delay", message.retryDelay);
  set("upstash-callback", message.callback);
  set("upstash-failure-callback", message.failureCallback);
  set("upstash-timeout", message.timeout === undefined ? undefined : `${message.timeout}s`);
  const flow = message.flowControl;
  if (flow?.key) {
    const { parallelism, rate, period } = flow;
    set("upstash-flow-control-key", flow.key);
    set(
      "upstash-flow-control-value",
      [parallelism && `parallelism=${parallelism}`, rate && `rate=${rate}`, period && `period=${period}s`]
        .filter(Boolean)
        .join(", "),
    );
  }
  set("upstash-label", message.label);
  return headers;
}

/** Publish one message (onto its queue, if it names one); resolves to its message id. */
export async function publish(qstash: QStashTarget, message: PublishMessage): Promise<string> {
  const path = message.queueName
    ? `v2/enqueue/${message.queueName}/${message.url}`
    : `v2/publish/${message.url}`;
  const reply = (await send(qstash, path, messageHeaders(message), JSON.stringify(message.body))) as {
    messageId: string;
  };
  return reply.messageId;
}

/** Publish messages in one batch call; resolves to their message ids in order. */
export async function publishBatch(qstash: QStashTarget, messages: PublishMessage[]): Promise<string[]> {
  const items = messages.map((message) => ({
    destination: message.url,
    headers: messageHeaders(message),
    body: JSON.stringify(message.body),
    ...(message.queueName && { queue: message.queueName }),
  }));
  const reply = await send(qstash, "v2/batch", { "content-type": "application/json" }, JSON.stringify(items));
  return (Array.isArray(reply) ? reply : [reply]).map((item: { messageId: string }) => item.messageId);
}

/** Retries after a network error, as the SDK does: QStash may not have seen the request. */
const NETWORK_RETRIES = 5;

async function send(
  qstash: QStashTarget,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<unknown> {
  // Parsed like the SDK's URLs, so a destination is normalised the same way.
  const url = new URL(`${qstash.url}/${path}`);
  const init = { method: "POST", headers: { ...headers, authorization: `Bearer ${qstash.token}` }, body };
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      if (attempt >= NETWORK_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.exp(attempt) * 50));
      continue;
    }
    const text = await response.text();
    if (!response.ok) throw new PublishError(text || `QStash answered ${response.status}`, response.status);
    return JSON.parse(text);
  }
}
