import type { Core } from "./core.js";
import type { DeliveryResult, Sender } from "./delivery.js";
import type { Message } from "./model.js";
import { signDelivery } from "./signing.js";

/**
 * One attempt of a message as QStash sends it: the forwarded headers, QStash's own
 * (`Upstash-Message-Id`, `-Retried`, `-Caller-Ip`, ...) and a fresh signature over the body
 * and URL with the user's current key, handed to the sender.
 */
export function sendAttempt(core: Core, sender: Sender, msg: Message): Promise<DeliveryResult> {
  const user = msg.user;
  const body = msg.body === undefined ? undefined : Buffer.from(msg.body, "latin1");
  const headers: Record<string, string> = {};
  for (const name in msg.cfg.header) headers[name] = msg.cfg.header[name]!.join(", ");
  headers["User-Agent"] = "Upstash-QStash";
  headers["Upstash-Message-Id"] = msg.id;
  headers["Upstash-Retried"] = String(msg.retried);
  headers["Upstash-Caller-Ip"] = msg.callerIp;
  if (msg.scheduleId) headers["Upstash-Schedule-Id"] = msg.scheduleId;
  if (msg.topicName) headers["Upstash-Topic-Name"] = msg.topicName;
  if (msg.endpointName) headers["Upstash-Endpoint-Name"] = msg.endpointName;
  headers["Upstash-Signature"] = signDelivery(user.currentSigningKey, {
    sub: msg.url,
    iat: Math.floor((core.options.signatureTime?.() ?? core.clock.now()) / 1000),
    body: body ?? "",
  });
  return sender.send({
    url: msg.url,
    method: msg.cfg.method,
    headers,
    body,
    timeoutMs: msg.cfg.timeoutMs ?? core.options.defaultTimeoutMs,
  });
}
