import type { Clock } from "./clock.js";
import { TimerHeap } from "./heap.js";
import type { FlowKey, Message, Schedule } from "./model.js";

/** What the engine wakes up for: a delayed message or a retry, a cron tick, a rate window. */
export type Due = Message | Schedule | FlowKey;

/**
 * Engine time: one heap of due items driven by one clock timer (a timer per message would
 * cost a closure and a libuv handle each, for 100k delayed messages), and the count of
 * deliveries in flight that `idle()` waits for.
 */
export class Timers {
  readonly #clock: Clock;
  readonly #fire: (item: Due) => void;
  readonly #heap = new TimerHeap<Due>();
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed = false;
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(clock: Clock, fire: (item: Due) => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /** Wake `item` at `at` (ms); scheduling it again moves it. */
  schedule(item: Due, at: number): void {
    this.#heap.push(item, at);
    this.#arm();
  }

  unschedule(item: Due): void {
    this.#heap.remove(item);
  }

  #arm(): void {
    if (this.#closed) return;
    const top = this.#heap.peek();
    if (!top) return;
    if (top.at >= this.#timerAt && this.#timer !== undefined) return;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timerAt = top.at;
    this.#timer = this.#clock.setTimer(() => this.#wake(), Math.max(0, top.at - this.#clock.now()));
  }

  #wake(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    // Bounded batches keep the event loop responsive when thousands come due at once.
    for (let i = 0; i < 10_000; i++) {
      const top = this.#heap.peek();
      if (!top || top.at > now) break;
      this.#heap.pop();
      try {
        this.#fire(top);
      } catch (error) {
        console.error("jobstash dev: internal error while firing a timer", error);
      }
    }
    this.#arm();
  }

  /** Counts a delivery in flight; a counter rather than a promise set keeps the hot path cheap. */
  track(p: Promise<void>): void {
    this.#inflight++;
    p.then(() => {
      if (--this.#inflight === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  /** Resolves when no delivery is in flight (the virtual clock waits for this between steps). */
  async idle(): Promise<void> {
    while (this.#inflight > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
