import type { FlowControlLimits } from "../../../protocol.js";
import type { Core } from "../core.js";
import { notFound } from "../errors.js";
import type { FlowKey, UserState } from "../model.js";

/** `/v2/flowControl`: inspect, pause, pin and reset the flow-control keys messages created. */
export class FlowControl {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  get(user: UserState, key: string): FlowKey {
    const fk = user.flow.get(key);
    if (!fk) throw notFound(`flow-control key ${JSON.stringify(key)} not found`);
    return fk;
  }

  list(user: UserState, search?: string): FlowKey[] {
    return [...user.flow.values()].filter((f) => !search || f.key.includes(search));
  }

  pause(user: UserState, key: string, paused: boolean): void {
    const fk = this.get(user, key);
    fk.paused = paused;
    this.#core.store.touched(user, "flow", key);
    this.#core.dispatch.pumpFlow(fk);
  }

  /** Pinned limits win over the ones each publish carries. */
  pin(user: UserState, key: string, pin: Omit<FlowControlLimits, "key">): void {
    const fk = this.get(user, key);
    if (pin.parallelism !== undefined) {
      fk.parallelism = pin.parallelism;
      fk.pinnedParallelism = true;
    }
    if (pin.rate !== undefined || pin.period !== undefined) {
      if (pin.rate !== undefined) fk.rate = pin.rate;
      if (pin.period !== undefined) fk.period = pin.period;
      fk.pinnedRate = true;
    }
    this.#core.store.touched(user, "flow", key);
    this.#resetRate(fk);
  }

  unpin(user: UserState, key: string, unpin: { parallelism: boolean; rate: boolean }): void {
    const fk = this.get(user, key);
    if (unpin.parallelism) fk.pinnedParallelism = false;
    if (unpin.rate) fk.pinnedRate = false;
    this.#core.store.touched(user, "flow", key);
    this.#core.dispatch.pumpFlow(fk);
  }

  resetRate(user: UserState, key: string): void {
    this.#resetRate(this.get(user, key));
  }

  #resetRate(fk: FlowKey): void {
    fk.rateCount = 0;
    fk.periodStart = this.#core.clock.now();
    this.#core.timers.unschedule(fk);
    this.#core.dispatch.pumpFlow(fk);
  }

  /** QStash's account-wide parallelism; locally there is no cap, only the count. */
  globalParallelism(user: UserState): { parallelismMax: number; parallelismCount: number } {
    let count = 0;
    for (const m of user.messages.values()) if (m.phase === "active") count++;
    return { parallelismMax: 0, parallelismCount: count };
  }
}
