import type { DeliveryRequest, EnvSource, Logger, ReplyHandler } from "jobstash";
import type { DeliveryResult, OutgoingRequest, Sender } from "../dev-server/engine/delivery.js";
import { type Capture, within } from "./publisher.js";

/**
 * Extra real time an attempt with its own timeout gets before the harness stops waiting, so
 * the receiver's own `500 TIMEOUT` answer (it enforces the job's timeout) arrives first.
 */
const GRACE_MS = 50;

/** What an in-process delivery needs. */
export interface InProcessDelivery {
  /** The receiver: `createReplyHandler(jobs)`, what `createHandler` wraps in a `Response`. */
  handler: ReplyHandler;
  /** The bindings handed to the receiver with every request (`ctx.env`). */
  env: EnvSource;
  /** The harness, so `jobs.trigger` inside a job lands in it. */
  capture: Capture;
  logger: Logger;
  /** Response bytes kept, as the dev server keeps them. */
  maxResponseBytes: number;
  /** Whether the message set its own timeout (else the attempt got the harness's `attemptTimeout`). */
  ownTimeout(messageId: string): boolean;
  /** An attempt without a timeout of its own never settled within `attemptTimeout`. */
  hung(request: OutgoingRequest): void;
  /** The virtual time, when an attempt goes out. */
  now(): number;
  /** An attempt's answer, before the engine acts on it. */
  answered(request: OutgoingRequest, result: DeliveryResult, time: number): void;
}

/**
 * The engine's sender for the harness: each signed request goes to the real receiver in
 * process, verified and answered as in production. Requests only run while the gate is
 * open (during `advance` and `drain`): one made by a trigger between steps waits there, so
 * nothing runs behind the test's back and every step settles deterministically.
 */
export class InProcessSender implements Sender {
  readonly #delivery: InProcessDelivery;
  #open = false;
  #parked: (() => void)[] = [];

  constructor(delivery: InProcessDelivery) {
    this.#delivery = delivery;
  }

  send(request: OutgoingRequest): Promise<DeliveryResult> {
    if (this.#open) return this.#deliver(request);
    return new Promise((resolve) => this.#parked.push(() => resolve(this.#deliver(request))));
  }

  /** Lets deliveries run, starting those that waited. */
  open(): void {
    this.#open = true;
    for (const go of this.#parked.splice(0)) go();
  }

  /** Holds new deliveries until the next `open`. */
  shut(): void {
    this.#open = false;
  }

  close(): void {
    this.#open = false;
    this.#parked = [];
  }

  async #deliver(request: OutgoingRequest): Promise<DeliveryResult> {
    const delivery = this.#delivery;
    const time = delivery.now();
    const result = await within(delivery.capture, () => answer(delivery, request));
    delivery.answered(request, result, time);
    return result;
  }
}

/** One request to the receiver, raced against the attempt's timeout (real time). */
async function answer(delivery: InProcessDelivery, request: OutgoingRequest): Promise<DeliveryResult> {
  const background: Promise<unknown>[] = [];
  const ctx = {
    waitUntil(promise: Promise<unknown>) {
      background.push(
        Promise.resolve(promise).catch((error) =>
          delivery.logger.error("jobstash: background work failed", error),
        ),
      );
    },
  };
  const work = (async (): Promise<DeliveryResult> => {
    const reply = await delivery.handler(incoming(request), delivery.env, ctx);
    // Work handed to ctx.waitUntil belongs to the delivery here: a step ends once it is done.
    while (background.length) await Promise.all(background.splice(0));
    const headers: Record<string, string> = {};
    for (const name in reply.headers) headers[name.toLowerCase()] = reply.headers[name]!;
    const body = Buffer.from(reply.body ?? "");
    const max = delivery.maxResponseBytes;
    return body.length > max
      ? { ok: true, status: reply.status, headers, body: body.subarray(0, max), truncatedFrom: body.length }
      : { ok: true, status: reply.status, headers, body };
  })().catch((error: unknown): DeliveryResult => ({ ok: false, error: String(error) }));

  const own = delivery.ownTimeout(request.headers["Upstash-Message-Id"] ?? "");
  let timer: unknown;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, request.timeoutMs + (own ? GRACE_MS : 0));
  });
  try {
    const result = await Promise.race([work, expired]);
    if (result) return result;
  } finally {
    clearTimeout(timer as Parameters<typeof clearTimeout>[0]);
  }
  if (!own) delivery.hung(request);
  return { ok: false, error: `request timed out after ${request.timeoutMs}ms` };
}

/**
 * The request as the receiver reads it, as a Node server bridge hands it over (what the
 * Express adapter does): the signed headers and the raw body bytes. A Web `Request` and
 * `Response` around the same bytes would cost four times the rest of the delivery.
 */
function incoming(request: OutgoingRequest): DeliveryRequest {
  const headers = new Map<string, string>();
  for (const name in request.headers) headers.set(name.toLowerCase(), request.headers[name]!);
  const body = request.body;
  if (body) headers.set("content-length", String(body.length));
  let used = false;
  return {
    method: request.method,
    url: request.url,
    headers: { get: (name) => headers.get(name.toLowerCase()) ?? null },
    get bodyUsed() {
      return used;
    },
    async arrayBuffer() {
      used = true;
      return body ?? new Uint8Array(0);
    },
    body: null,
  };
}
