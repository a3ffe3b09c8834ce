/**
 * Where the engine gets its time. The engine arms at most one timer at a time (its earliest
 * due event), so a clock only needs one-shot timers.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimer}. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Wall-clock time and Node timers. */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimer(fn: () => void, ms: number): unknown {
    // setTimeout overflows above 2^31-1 ms (24.8 days) and fires at once; re-arm in steps.
    const t = setTimeout(fn, Math.min(Math.max(0, ms), 2_147_483_647));
    t.unref?.();
    return t;
  }
  clearTimer(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` runs every timer due in the window in
 * time order and, between timers, waits for the engine's async work (deliveries over real
 * HTTP, callbacks) to settle, so a test can step through delays, backoff and cron ticks
 * instantly and deterministically.
 *
 * Two things stay on real time: the per-attempt HTTP timeout, and the receiver's check of the
 * JWT's `exp` (virtual `iat` + 300 s). Start the clock at or after the real time when the
 * receiver verifies signatures; a clock set in the past yields expired tokens.
 *
 * @example
 * const clock = new VirtualClock(Date.parse("2026-01-01T00:00:00Z"));
 * const server = createDevServer({ clock });
 * await clock.advance(12_000); // the first retry is now done
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Set<VirtualTimer>();
  #settlers = new Set<() => Promise<void>>();

  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as VirtualTimer);
  }

  /** Registers async work to wait for between steps; returns an unregister function. */
  onSettle(settle: () => Promise<void>): () => void {
    this.#settlers.add(settle);
    return () => this.#settlers.delete(settle);
  }

  /** When the earliest timer is due (ms), or undefined when none is set. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.#timers) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /** Waits until no registered engine has async work in progress. */
  async settle(): Promise<void> {
    for (const settle of this.#settlers) await settle();
  }

  /** Moves time forward by `ms`, running due timers in order and settling async work after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.settle();
    for (;;) {
      let next: VirtualTimer | undefined;
      for (const t of this.#timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await this.settle();
    }
    this.#now = target;
    await this.settle();
  }

  /** Moves time to an absolute instant (see {@link VirtualClock.advance}). */
  async advanceTo(at: number): Promise<void> {
    await this.advance(Math.max(0, at - this.#now));
  }
}
