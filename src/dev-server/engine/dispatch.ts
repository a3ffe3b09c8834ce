import { DEFAULT_PERIOD_SECONDS, type FlowControlLimits } from "../../protocol.js";
import type { Core } from "./core.js";
import { FlowKey, type Message, Queue, type UserState } from "./model.js";

/**
 * Who may be attempted now: queue slots (FIFO, `parallelism` at a time, held until the message
 * and its callbacks finish) and flow-control gates (parallelism, and a rate per period), the
 * latter applied to every attempt including retries. Admitted messages go on to
 * `transitions.attempted`; the others wait in line here.
 */
export class Dispatch {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  /** A released message: into its queue's line, else straight to flow control. */
  enqueue(msg: Message): void {
    const q = msg.queue;
    if (q) {
      q.pending.push(msg);
      this.pumpQueue(q);
    } else this.gate(msg);
  }

  pumpQueue(q: Queue): void {
    while (!q.paused && q.active < q.parallelism && q.pending.length) {
      const msg = q.pending.shift()!;
      q.active++;
      msg.holdsQueueSlot = true;
      this.#core.store.changed(msg);
      this.gate(msg);
    }
  }

  /** Frees the queue slot a finished message held, letting the next one in. */
  releaseQueueSlot(msg: Message): void {
    if (!msg.holdsQueueSlot || !msg.queue) return;
    msg.holdsQueueSlot = false;
    msg.queue.active--;
    this.pumpQueue(msg.queue);
  }

  /** Takes a message out of whichever line it waits in (cancel). */
  withdraw(msg: Message): void {
    if (!msg.queue?.pending.delete(msg)) msg.flow?.waitlist.delete(msg);
  }

  /** Flow control: attempt now, or wait in the key's line. */
  gate(msg: Message): void {
    const fk = msg.flow;
    if (fk) {
      if (fk.waitlist.length || !this.#admits(fk)) {
        fk.waitlist.push(msg);
        this.pumpFlow(fk);
        return;
      }
      this.#take(fk);
    }
    this.#core.transitions.attempted(msg);
  }

  /** An attempt under `fk` ended: its parallelism slot is free. */
  attemptEnded(fk: FlowKey): void {
    fk.active--;
    this.pumpFlow(fk);
  }

  #admits(fk: FlowKey): boolean {
    if (fk.paused) return false;
    if (fk.parallelism !== undefined && fk.active >= fk.parallelism) return false;
    if (fk.rate !== undefined) {
      const now = this.#core.clock.now();
      if (now >= fk.periodStart + fk.period * 1000) {
        fk.periodStart = now;
        fk.rateCount = 0;
      }
      if (fk.rateCount >= fk.rate) return false;
    }
    return true;
  }

  #take(fk: FlowKey): void {
    fk.active++;
    fk.rateCount++;
  }

  pumpFlow(fk: FlowKey): void {
    while (fk.waitlist.length && this.#admits(fk)) {
      const msg = fk.waitlist.shift()!;
      this.#take(fk);
      this.#core.transitions.attempted(msg);
    }
    // Rate-limited with work waiting: wake up when the window rolls over.
    if (fk.waitlist.length && !fk.paused && fk.rate !== undefined && fk.rateCount >= fk.rate) {
      const at = fk.periodStart + fk.period * 1000;
      if (fk.heapIndex < 0 || fk.at !== at) this.#core.timers.schedule(fk, at);
    }
  }

  /** The flow-control key a message is published with; the latest publish sets unpinned limits. */
  flowFor(user: UserState, cfg: FlowControlLimits): FlowKey {
    let fk = user.flow.get(cfg.key);
    if (!fk) {
      fk = new FlowKey(cfg.key);
      fk.periodStart = this.#core.clock.now();
      user.flow.set(cfg.key, fk);
    }
    const { parallelism, rate, period } = fk;
    if (!fk.pinnedParallelism) fk.parallelism = cfg.parallelism;
    if (!fk.pinnedRate) {
      fk.rate = cfg.rate;
      fk.period = cfg.period ?? DEFAULT_PERIOD_SECONDS;
    }
    if (fk.parallelism !== parallelism || fk.rate !== rate || fk.period !== period) {
      this.#core.store.touched(user, "flow", fk.key);
    }
    return fk;
  }

  /** A queue by name; enqueueing to an unknown queue creates it with parallelism 1, as QStash does. */
  queueFor(user: UserState, name: string, now: number): Queue {
    let q = user.queues.get(name);
    if (!q) {
      q = new Queue(name, 1, false, now, now);
      user.queues.set(name, q);
      this.#core.store.touched(user, "queue", name);
    }
    return q;
  }
}
