import { Accept } from "./accept.js";
import { FlowControl } from "./admin/flow.js";
import { Groups } from "./admin/groups.js";
import { Messages } from "./admin/messages.js";
import { Queues } from "./admin/queues.js";
import { Schedules } from "./admin/schedules.js";
import { Users } from "./admin/users.js";
import { sendAttempt } from "./attempt.js";
import type { Core, EngineOptions } from "./core.js";
import { Deliverer } from "./delivery.js";
import { Dispatch } from "./dispatch.js";
import { Dlq } from "./dlq.js";
import { EventLog } from "./logs.js";
import { memoryStore } from "./store/store.js";
import { type Due, Timers } from "./timers.js";
import { Transitions } from "./transitions.js";

export type { EngineOptions } from "./core.js";

/** What a restart found in the data directory. */
export interface RestoreSummary {
  /** Messages not yet delivered, failed or cancelled, resumed. */
  messages: number;
  /** Of those, attempts that were in flight when the server stopped, made again. */
  inFlight: number;
  schedules: number;
  /** Cron ticks that fell while the server was down (skipped). */
  missedTicks: number;
  dlq: number;
}

/**
 * The local QStash: time, state, scheduling and delivery, with no HTTP in it. A facade over
 * parts with one responsibility each; the REST routes (and anything else that drives the
 * engine) use the parts it exposes. All state is per user.
 *
 * - `accept`: publishes become messages (config, destination, deduplication)
 * - `transitions`: the only code that changes a message's state
 * - `dispatch`: queue slots and flow-control gates between release and attempt
 * - `messages`, `dlq`, `queues`, `schedules`, `groups`, `flow`, `users`: what the API manages
 * - `events`: the event log behind `/v2/logs` and the `logger` option
 */
export class Engine {
  readonly users: Users;
  readonly accept: Accept;
  readonly messages: Messages;
  readonly dlq: Dlq;
  readonly queues: Queues;
  readonly schedules: Schedules;
  readonly groups: Groups;
  readonly flow: FlowControl;
  readonly events: EventLog;
  readonly #core: Core;
  readonly #timers: Timers;
  readonly #sender;
  #drainWaiters: (() => void)[] = [];

  constructor(options: EngineOptions) {
    const sender = options.sender ?? new Deliverer(undefined, options.maxResponseBytes);
    const store = options.store ?? memoryStore;
    const core = { clock: options.clock, options, store } as { -readonly [K in keyof Core]: Core[K] };
    core.timers = new Timers(options.clock, (item) => this.#fire(item));
    core.events = new EventLog(core);
    core.accept = new Accept(core);
    core.dispatch = new Dispatch(core);
    core.transitions = new Transitions(core);
    core.dlq = new Dlq(core);
    core.schedules = new Schedules(core);
    core.attempt = (msg) => sendAttempt(core, sender, msg);
    core.finished = () => this.#finished();
    this.#core = core;
    this.#timers = core.timers;
    this.#sender = sender;
    this.users = new Users(options.users, store);
    this.accept = core.accept;
    this.messages = new Messages(core);
    this.dlq = core.dlq;
    this.queues = new Queues(core);
    this.schedules = core.schedules;
    this.groups = new Groups(core);
    this.flow = new FlowControl(core);
    this.events = core.events;
  }

  get clock() {
    return this.#core.clock;
  }

  #fire(item: Due): void {
    const { dispatch, schedules, transitions } = this.#core;
    if (item.kind === "message") {
      if (item.phase === "delayed") transitions.released(item);
      else if (item.phase === "retry") transitions.retryDue(item);
    } else if (item.kind === "schedule") schedules.tick(item);
    else dispatch.pumpFlow(item);
  }

  #finished(): void {
    if (this.#drainWaiters.length && this.pendingCount() === 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      queueMicrotask(() => {
        for (const w of waiters) w();
      });
    }
  }

  /**
   * Picks up the state the store holds (a data directory), once, before serving: live messages
   * resume (see `transitions.resumed`), schedules go on from their next tick.
   */
  restore(): RestoreSummary | undefined {
    const { accept, dispatch, options, store, transitions } = this.#core;
    const loaded = store.load(this.users.all(), options.maxLogsPerUser);
    if (!loaded) return undefined;
    accept.resumeAfter(loaded.maxOrder);
    for (const holder of loaded.slotHolders) if (holder.queue) holder.queue.active++;
    let inFlight = 0;
    for (const msg of loaded.live) {
      if (msg.phase === "active") inFlight++;
      transitions.resumed(msg);
    }
    const summary: RestoreSummary = {
      messages: loaded.live.length,
      inFlight,
      schedules: 0,
      missedTicks: 0,
      dlq: 0,
    };
    for (const user of this.users.all()) {
      for (const q of user.queues.values()) dispatch.pumpQueue(q);
      for (const s of user.schedules.values()) {
        summary.schedules++;
        summary.missedTicks += this.schedules.resume(s);
      }
      summary.dlq += user.dlq.size;
    }
    return summary;
  }

  /** Resolves once everything changed so far is durable (undefined in memory, where nothing is). */
  commit(): Promise<void> | undefined {
    return this.#core.store.commit();
  }

  /** Resolves when no delivery is in flight (the virtual clock waits for this between steps). */
  idle(): Promise<void> {
    return this.#timers.idle();
  }

  /**
   * Resolves once every accepted message (callbacks included) is delivered, failed or cancelled.
   * With the real clock this includes waiting out delays and retry backoff.
   */
  drained(): Promise<void> {
    if (this.pendingCount() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Messages accepted and not yet in a final state, across users. */
  pendingCount(): number {
    let n = 0;
    for (const u of this.users.all()) n += u.messages.size;
    return n;
  }

  /** Stops timers and closes idle sockets, then writes what is left to the store. */
  async close(): Promise<void> {
    this.#timers.close();
    this.#sender.close();
    await this.#core.store.close();
  }
}
