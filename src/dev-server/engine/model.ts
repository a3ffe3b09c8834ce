import { DEFAULT_PERIOD_SECONDS } from "../../protocol.js";
import { Fifo, type Timed } from "./heap.js";
import type { HeaderMap, MessageConfig, RawHeaders, StoredHeaders } from "./message-config.js";

/** Lifecycle states, as QStash's logs spell them. */
export type LogState =
  | "CREATED"
  | "ACTIVE"
  | "DELIVERED"
  | "ERROR"
  | "RETRY"
  | "FAILED"
  | "CANCEL_REQUESTED"
  | "CANCELLED";

/** The outcome of the last attempt, kept for callbacks, logs and the DLQ. */
export interface AttemptOutcome {
  status?: number;
  headers?: RawHeaders;
  body?: Buffer;
  /** Set when `body` was cut: the response body's full length in bytes. */
  truncatedFrom?: number;
  error?: string;
}

export type Phase = "delayed" | "waiting" | "active" | "retry" | "done";

/** Where a body that was let go of lives on disk (the data directory). */
export interface BodyRef {
  read(): string;
}

/**
 * One message. A class with fixed fields keeps 100k delayed messages compact: V8 gives every
 * instance the same hidden class, and the heavy parts (config, headers) are shared across a
 * URL group's fan-out and a schedule's ticks.
 */
export class Message implements Timed {
  readonly kind = "message" as const;
  at = 0;
  seq = 0;
  heapIndex = -1;
  phase: Phase = "delayed";
  /** Acceptance order across the server: a queue's FIFO order, kept across restarts. */
  order = 0;
  retried = 0;
  cancelRequested = false;
  holdsQueueSlot = false;
  /** Callback messages still running; the queue slot is held until they finish. */
  pendingChildren = 0;
  flow: FlowKey | undefined = undefined;
  queue: Queue | undefined = undefined;
  parent: Message | undefined = undefined;
  topicName: string | undefined = undefined;
  endpointName: string | undefined = undefined;
  scheduleId: string | undefined = undefined;
  #body: string | undefined;
  #onDisk: BodyRef | undefined = undefined;

  constructor(
    readonly id: string,
    readonly user: UserState,
    readonly url: string,
    readonly cfg: MessageConfig,
    /** latin1-encoded bytes (see `toStoredBody`). */
    body: string | undefined,
    readonly createdAt: number,
    public notBefore: number,
    readonly callerIp: string,
  ) {
    this.#body = body;
  }

  /** latin1-encoded bytes (see `toStoredBody`); read from disk when the store let go of it. */
  get body(): string | undefined {
    return this.#body ?? this.#onDisk?.read();
  }

  /**
   * The data directory holds the body (it is synced there): drop the copy in memory. 100k
   * delayed messages then cost their bookkeeping, not their bodies.
   */
  releaseBody(ref: BodyRef): void {
    if (this.#body === undefined) return;
    this.#onDisk = ref;
    this.#body = undefined;
  }

  /** Where the body is on disk, if it was let go of. */
  get bodyOnDisk(): BodyRef | undefined {
    return this.#onDisk;
  }

  /** The body moved on disk (a snapshot replaced the journal that held it). */
  moveBody(ref: BodyRef): void {
    if (this.#onDisk) this.#onDisk = ref;
  }
}

export interface LogEntry {
  seq: number;
  time: number;
  state: LogState;
  msg: Message;
  error?: string;
  nextDeliveryTime?: number;
  responseStatus?: number;
  responseBody?: Buffer;
  responseHeaders?: StoredHeaders;
}

export interface DlqEntry {
  dlqId: string;
  msg: Message;
  time: number;
  outcome: AttemptOutcome;
}

export class Queue {
  pending = new Fifo<Message>();
  active = 0;
  constructor(
    readonly name: string,
    public parallelism: number,
    public paused: boolean,
    readonly createdAt: number,
    public updatedAt: number,
  ) {}
}

export class FlowKey implements Timed {
  readonly kind = "flow" as const;
  at = 0;
  seq = 0;
  heapIndex = -1;
  parallelism: number | undefined = undefined;
  rate: number | undefined = undefined;
  /** Seconds. */
  period = DEFAULT_PERIOD_SECONDS;
  pinnedParallelism = false;
  pinnedRate = false;
  paused = false;
  active = 0;
  rateCount = 0;
  periodStart = 0;
  waitlist = new Fifo<Message>();
  constructor(readonly key: string) {}
}

export class Schedule implements Timed {
  readonly kind = "schedule" as const;
  at = 0;
  seq = 0;
  heapIndex = -1;
  paused = false;
  lastScheduleTime: number | undefined = undefined;
  nextScheduleTime: number | undefined = undefined;
  lastStates: Record<string, string> = {};
  constructor(
    readonly id: string,
    readonly user: UserState,
    readonly destination: string,
    readonly cfg: MessageConfig,
    /** latin1-encoded bytes (see `toStoredBody`). */
    readonly body: string | undefined,
    readonly cron: string,
    readonly createdAt: number,
    readonly callerIp: string,
  ) {}
}

export interface Endpoint {
  name?: string;
  url: string;
}

export interface UrlGroup {
  name: string;
  createdAt: number;
  updatedAt: number;
  endpoints: Endpoint[];
}

/** One token's world: nothing is shared between users. */
export class UserState {
  messages = new Map<string, Message>();
  dlq = new Map<string, DlqEntry>();
  logs: LogEntry[] = [];
  logSeq = 0;
  dlqSeq = 0;
  queues = new Map<string, Queue>();
  schedules = new Map<string, Schedule>();
  groups = new Map<string, UrlGroup>();
  flow = new Map<string, FlowKey>();
  dedup = new Map<string, { messageId: string; expires: number }>();
  constructor(
    readonly userId: string,
    readonly token: string,
    public currentSigningKey: string,
    public nextSigningKey: string,
    /** The default dev user's keys are what the SDK's dev-mode probe recognises. */
    readonly fixedKeys: boolean,
  ) {}
}

export type { HeaderMap };

/** The bytes of a stored (latin1) body. */
export function bodyBytes(body: string | undefined): Buffer | undefined {
  return body === undefined ? undefined : Buffer.from(body, "latin1");
}
