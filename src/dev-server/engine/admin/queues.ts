import { QSTASH_NAME } from "../../../protocol.js";
import type { Core } from "../core.js";
import { badRequest, notFound } from "../errors.js";
import type { Queue, UserState } from "../model.js";

/** `/v2/queues`: create or update, list, pause and delete FIFO queues. */
export class Queues {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  upsert(user: UserState, name: string, parallelism: number, paused: boolean): void {
    if (!QSTASH_NAME.test(name)) {
      throw badRequest(`invalid queue name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`);
    }
    if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 1000) {
      throw badRequest(`invalid parallelism ${parallelism}: use a whole number from 1 to 1000`);
    }
    const now = this.#core.clock.now();
    const q = this.#core.dispatch.queueFor(user, name, now);
    q.parallelism = parallelism;
    q.paused = paused;
    q.updatedAt = now;
    this.#core.store.touched(user, "queue", name);
    this.#core.dispatch.pumpQueue(q);
  }

  get(user: UserState, name: string): Queue {
    const q = user.queues.get(name);
    if (!q) throw notFound(`queue ${JSON.stringify(name)} not found`);
    return q;
  }

  list(user: UserState): Queue[] {
    return [...user.queues.values()];
  }

  delete(user: UserState, name: string): void {
    const q = user.queues.get(name);
    if (!q) return;
    // Nothing accepted is lost: messages still waiting on a deleted queue are cancelled explicitly.
    for (const msg of [...q.pending]) this.#core.transitions.cancelRequested(msg);
    user.queues.delete(name);
    this.#core.store.touched(user, "queue", name);
  }

  pause(user: UserState, name: string, paused: boolean): void {
    const q = this.get(user, name);
    q.paused = paused;
    q.updatedAt = this.#core.clock.now();
    this.#core.store.touched(user, "queue", name);
    this.#core.dispatch.pumpQueue(q);
  }
}
