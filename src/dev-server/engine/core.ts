import type { Accept } from "./accept.js";
import type { Schedules } from "./admin/schedules.js";
import type { Clock } from "./clock.js";
import type { DeliveryResult, Sender } from "./delivery.js";
import type { Dispatch } from "./dispatch.js";
import type { Dlq } from "./dlq.js";
import type { EventLog, LifecycleEvent } from "./logs.js";
import type { ConfigLimits } from "./message-config.js";
import type { Message } from "./model.js";
import type { Store } from "./store/store.js";
import type { Timers } from "./timers.js";
import type { Transitions } from "./transitions.js";
import type { DevUser } from "./users.js";

export interface EngineOptions {
  clock: Clock;
  users: readonly DevUser[];
  retryScale: number;
  limits: ConfigLimits;
  defaultTimeoutMs: number;
  maxLogsPerUser: number;
  dedupWindowMs: number;
  /** Response bytes kept per attempt; longer bodies are cut, and callbacks say so. @default 10 MiB */
  maxResponseBytes?: number;
  logger?: (event: LifecycleEvent) => void;
  /** How attempts go out. @default keep-alive `node:http` agents */
  sender?: Sender;
  /**
   * The time signatures are issued at (ms). The receiver checks a token's `exp` against its own
   * clock, so a harness whose virtual clock is in the past signs with the real time.
   * @default the engine's clock
   */
  signatureTime?: () => number;
  /** Where state is kept. @default memory only */
  store?: Store;
}

/**
 * The engine's parts as they see each other. The facade (`engine.ts`) builds them around one
 * object of this shape; each part keeps a reference and reaches the others through it, so no
 * part imports another's module for more than its type.
 */
export interface Core {
  readonly clock: Clock;
  readonly options: EngineOptions;
  readonly timers: Timers;
  readonly events: EventLog;
  readonly accept: Accept;
  readonly dispatch: Dispatch;
  readonly transitions: Transitions;
  readonly dlq: Dlq;
  readonly schedules: Schedules;
  readonly store: Store;
  /** Sends one attempt of a message. */
  attempt(msg: Message): Promise<DeliveryResult>;
  /** A message reached a final state (the facade's `drained()` listens). */
  finished(): void;
}
