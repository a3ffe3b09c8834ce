import { toStoredBody } from "../accept.js";
import type { Core } from "../core.js";
import { nextCronTime } from "../cron.js";
import { badRequest, notFound } from "../errors.js";
import { type HeaderMap, parseMessageConfig } from "../message-config.js";
import { type Message, Schedule, type UserState } from "../model.js";
import { randomId } from "../signing.js";

/** `/v2/schedules`: cron schedules, each tick publishing a message as a publish would. */
export class Schedules {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  /** Creates or overwrites (same `Upstash-Schedule-Id`) a schedule. */
  create(
    user: UserState,
    destination: string,
    headers: HeaderMap,
    body: Buffer | undefined,
    callerIp: string,
  ) {
    const { accept, clock, dispatch, options, timers } = this.#core;
    const cfg = parseMessageConfig(headers, options.limits);
    if (!headers.has("content-type")) cfg.header["Content-Type"] = ["application/json"];
    const cron = cfg.cron?.trim();
    if (!cron) throw badRequest('missing Upstash-Cron: give a cron expression such as "*/5 * * * *"');
    const now = clock.now();
    const next = nextCronTime(cron, now); // validates
    accept.resolveDestination(user, destination);
    if (cfg.queueName !== undefined) dispatch.queueFor(user, cfg.queueName, now);
    const id = cfg.scheduleId ?? `scd_${randomId(20)}`;
    const old = user.schedules.get(id);
    if (old) timers.unschedule(old);
    const schedule = new Schedule(
      id,
      user,
      destination,
      cfg,
      toStoredBody(body),
      cron,
      old?.createdAt ?? now,
      callerIp,
    );
    schedule.nextScheduleTime = next;
    user.schedules.set(id, schedule);
    this.#core.store.touched(user, "schedule", id);
    timers.schedule(schedule, next);
    return { scheduleId: id };
  }

  /** Updates `lastScheduleStates` when a message of the schedule's latest tick finishes. */
  markRun(msg: Message, state: "SUCCESS" | "FAIL"): void {
    if (!msg.scheduleId) return;
    const s = msg.user.schedules.get(msg.scheduleId);
    if (s && msg.id in s.lastStates) {
      s.lastStates[msg.id] = state;
      this.#core.store.touched(s.user, "schedule", s.id);
    }
  }

  /** A cron tick: publish (unless paused) and arm the next one. */
  tick(s: Schedule): void {
    if (s.user.schedules.get(s.id) !== s) return;
    const { clock, timers } = this.#core;
    const now = clock.now();
    if (!s.paused) this.#fire(s, now);
    // Next tick strictly after this one (cron has minute resolution).
    const next = nextCronTime(s.cron, Math.max(now, s.at));
    s.nextScheduleTime = next;
    this.#core.store.touched(s.user, "schedule", s.id);
    timers.schedule(s, next);
  }

  /**
   * Publishes what a tick publishes, now, paused or not (the console's "Run now"); it counts
   * as the schedule's last run, and the next tick keeps its time.
   */
  runNow(user: UserState, id: string): string[] {
    const s = this.get(user, id);
    this.#core.accept.resolveDestination(user, s.destination); // a missing URL group is the caller's to hear
    const ids = this.#fire(s, this.#core.clock.now());
    this.#core.store.touched(user, "schedule", id);
    return ids;
  }

  /** One run: a message per destination endpoint; returns their ids. */
  #fire(s: Schedule, now: number): string[] {
    const { accept } = this.#core;
    s.lastScheduleTime = now;
    s.lastStates = {};
    try {
      const targets = accept.resolveDestination(s.user, s.destination);
      for (const ep of targets.endpoints) {
        const r = accept.one(s.user, s.cfg, ep, s.body, {
          now,
          queueName: s.cfg.queueName,
          callerIp: s.callerIp,
          topicName: targets.group,
          scheduleId: s.id,
          dedupPrefix: "",
        });
        s.lastStates[r.messageId] = "IN_PROGRESS";
      }
    } catch (error) {
      // A URL group deleted after the schedule was created: skip this tick, keep the schedule.
      console.error(`jobstash dev: schedule ${s.id} could not fire: ${(error as Error).message}`);
    }
    return Object.keys(s.lastStates);
  }

  /**
   * After a restart: ticks that fell while the server was down are skipped, not fired in a
   * burst (a dev server stopped overnight would otherwise send hundreds at once); the schedule
   * goes on from its next tick. Returns how many were skipped.
   */
  resume(s: Schedule): number {
    const now = this.#core.clock.now();
    let next = s.nextScheduleTime ?? nextCronTime(s.cron, now);
    let missed = 0;
    if (next <= now) {
      for (let t = next; t <= now && missed < 100_000; t = nextCronTime(s.cron, t)) missed++;
      next = nextCronTime(s.cron, now);
      s.nextScheduleTime = next;
      this.#core.store.touched(s.user, "schedule", s.id);
    }
    this.#core.timers.schedule(s, next);
    return missed;
  }

  get(user: UserState, id: string): Schedule {
    const s = user.schedules.get(id);
    if (!s) throw notFound(`schedule ${JSON.stringify(id)} not found`);
    return s;
  }

  list(user: UserState): Schedule[] {
    return [...user.schedules.values()];
  }

  delete(user: UserState, id: string): void {
    const s = user.schedules.get(id);
    if (!s) return;
    this.#core.timers.unschedule(s);
    user.schedules.delete(id);
    this.#core.store.touched(user, "schedule", id);
  }

  pause(user: UserState, id: string, paused: boolean): void {
    this.get(user, id).paused = paused;
    this.#core.store.touched(user, "schedule", id);
  }
}
