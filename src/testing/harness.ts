import {
  type AnyJob,
  type BatchItem,
  createReplyHandler,
  type Jobstash,
  PublishError,
  type TriggerOptions,
} from "jobstash";
import type { PublishResult } from "../dev-server/engine/accept.js";
import { VirtualClock } from "../dev-server/engine/clock.js";
import type { OutgoingRequest } from "../dev-server/engine/delivery.js";
import { Engine } from "../dev-server/engine/engine.js";
import { DevServerError } from "../dev-server/engine/errors.js";
import type { UserState } from "../dev-server/engine/model.js";
import { DEFAULT_DEV_USER } from "../dev-server/engine/users.js";
import { internals } from "../jobstash.js";
import { messageHeaders, type PublishMessage } from "../protocol.js";
import { installDeclared, type PinFlowControl } from "./declared.js";
import { TestHarnessError } from "./errors.js";
import {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_HORIZON_MS,
  durationMs,
  harnessEnv,
  startTime,
} from "./options.js";
import { canMove, pendingMessages } from "./pending.js";
import { type Capture, capture, within } from "./publisher.js";
import { Records } from "./records.js";
import { InProcessSender } from "./sender.js";
import type { DrainOptions, StepSummary, TestJobstash, TestJobstashOptions } from "./types.js";

const CALLER_IP = "127.0.0.1";
const DAY_MS = 86_400_000;

/**
 * The harness: the dev server's engine on a virtual clock, delivering to the real receiver in
 * process. It keeps no state of its own beyond {@link Records}: messages, queues, schedules and
 * the DLQ are the engine's.
 */
export class TestHarness<TJobs extends readonly AnyJob[]> implements TestJobstash<TJobs> {
  readonly #jobs: Jobstash<TJobs>;
  readonly #clock: VirtualClock;
  readonly #engine: Engine;
  readonly #user: UserState;
  readonly #sender: InProcessSender;
  readonly #records: Records;
  readonly #capture: Capture;
  readonly #ready: Promise<PinFlowControl>;
  readonly #release: () => void;
  readonly #unsettle: () => void;
  #pin: PinFlowControl | undefined;
  #busy = false;
  #closed = false;
  /** A problem found during a step (a job that never settled), thrown when the step ends. */
  #fault: TestHarnessError | undefined;

  constructor(jobs: Jobstash<TJobs>, options: TestJobstashOptions = {}) {
    const inner = internals(jobs);
    this.#jobs = jobs;
    const env = harnessEnv(options.env ?? inner.options.env ?? process.env);
    const logger = options.logger ?? inner.options.logger ?? console;
    const config = inner.config(env);
    const keys = config.signingKeys();
    config.baseUrl(); // a base URL the registry or the env sets must be valid: say so now
    const attemptTimeoutMs =
      options.attemptTimeout === undefined
        ? DEFAULT_ATTEMPT_TIMEOUT_MS
        : durationMs(options.attemptTimeout, "createTestJobstash: attemptTimeout");
    const maxBody = inner.options.maxBodySize ?? 10 * 1024 * 1024;

    this.#clock = new VirtualClock(startTime(options.now));
    this.#capture = { env, publish: (messages) => this.#publish(messages) };
    this.#sender = new InProcessSender({
      handler: createReplyHandler(jobs, { logger }),
      env,
      capture: this.#capture,
      logger,
      maxResponseBytes: maxBody,
      ownTimeout: (id) => this.#user.messages.get(id)?.cfg.timeoutMs !== undefined,
      hung: (request) => this.#hung(request, attemptTimeoutMs),
      now: () => this.#clock.now(),
      answered: (request, result, time) => this.#records.answered(request, result, time),
    });
    this.#engine = new Engine({
      clock: this.#clock,
      users: [
        { ...DEFAULT_DEV_USER, userId: "test", currentSigningKey: keys.current, nextSigningKey: keys.next },
      ],
      retryScale: 1,
      limits: { maxRetries: 100, maxTimeoutMs: DAY_MS, maxDelayMs: 365 * DAY_MS },
      defaultTimeoutMs: attemptTimeoutMs,
      maxLogsPerUser: 1000,
      dedupWindowMs: 600_000,
      maxResponseBytes: maxBody,
      sender: this.#sender,
      // The receiver checks a token's expiry against the real clock, and the virtual one may be
      // anywhere: sign with the real time.
      signatureTime: () => Date.now(),
      logger: (event) => {
        this.#records.event(event);
        if (event.state === "CREATED") {
          const msg = this.#user.messages.get(event.messageId);
          if (msg?.flow) this.#pin?.(msg);
        }
      },
    });
    this.#user = this.#engine.users.all().next().value!;
    this.#records = new Records(this.#user);
    this.#unsettle = this.#clock.onSettle(() => this.#engine.idle());
    this.#release = capture(jobs, this.#capture);
    this.#ready = installDeclared(this.#engine, this.#user, jobs, env).then((pin) => {
      this.#pin = pin;
      return pin;
    });
    // Reported by the first call that awaits it; never an unhandled rejection.
    this.#ready.catch(() => {});
  }

  trigger = (async (id: string, input: unknown, options?: TriggerOptions) => {
    await this.#usable();
    this.#known(id, "trigger");
    return within(this.#capture, () => (this.#jobs.trigger as AnyTrigger)(id, input, options));
  }) as Jobstash<TJobs>["trigger"];

  batch = (async (items: readonly BatchItem<TJobs>[]) => {
    await this.#usable();
    for (const item of items) this.#known(item?.id, "batch");
    return within(this.#capture, () => this.#jobs.batch(items));
  }) as Jobstash<TJobs>["batch"];

  async advance(duration: Parameters<TestJobstash["advance"]>[0]): Promise<StepSummary> {
    const ms = durationMs(duration, "advance()");
    return this.#step(() => this.#stepTo(this.#clock.now() + ms));
  }

  async drain(options: DrainOptions = {}): Promise<StepSummary> {
    const horizonMs =
      options.horizon === undefined ? DEFAULT_HORIZON_MS : durationMs(options.horizon, "drain({ horizon })");
    return this.#step(() => this.#drain(horizonMs));
  }

  runs(jobId?: string) {
    if (jobId !== undefined) this.#known(jobId, "runs");
    const all = this.#records.runs;
    return (jobId === undefined ? [...all] : all.filter((r) => r.jobId === jobId)) as any[];
  }

  dlq(jobId?: string) {
    if (jobId !== undefined) this.#known(jobId, "dlq");
    const all = this.#records.dlq();
    return (jobId === undefined ? all : all.filter((r) => r.jobId === jobId)) as any[];
  }

  message(messageId: string) {
    const found = this.#records.message(messageId);
    if (!found) throw this.#unknownMessage(messageId);
    return found;
  }

  cancel(messageId: string): void {
    if (this.#closed) throw closed();
    if (!this.#records.has(messageId)) throw this.#unknownMessage(messageId);
    try {
      this.#engine.messages.cancel(this.#user, messageId);
    } catch (error) {
      if (!(error instanceof DevServerError)) throw error;
      throw new TestHarnessError(
        "UNKNOWN_MESSAGE",
        `cancel(): message ${messageId} is already ${this.#records.message(messageId)?.state}; only pending messages can be cancelled`,
      );
    }
  }

  now(): Date {
    return new Date(this.#clock.now());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    this.#unsettle();
    await this.#engine.close();
  }

  /** Waits for the declared schedules and queues, and refuses a closed harness. */
  async #usable(): Promise<void> {
    if (this.#closed) throw closed();
    await this.#ready;
    if (this.#closed) throw closed();
  }

  /** One `advance` or `drain`: deliveries run only inside it, and it reports what it did. */
  async #step(body: () => Promise<void>): Promise<StepSummary> {
    await this.#usable();
    if (this.#busy) {
      throw new TestHarnessError(
        "BUSY",
        "advance() or drain() was called while another was still running; await each before the next",
      );
    }
    this.#busy = true;
    const from = this.#clock.now();
    const runs = this.#records.runs.length;
    const hooks = this.#records.hooks.length;
    const dlq = this.#user.dlq.size;
    this.#sender.open();
    try {
      await body();
    } finally {
      this.#sender.shut();
      this.#busy = false;
    }
    return {
      from: new Date(from),
      to: new Date(this.#clock.now()),
      runs: this.#records.runs.slice(runs),
      hooks: this.#records.hooks.slice(hooks),
      dlq: this.#records.dlq(dlq),
    };
  }

  /** Runs every event due by `target`, one due time after another, each settled before the next. */
  async #stepTo(target: number): Promise<void> {
    for (;;) {
      await this.#settled();
      const next = this.#clock.nextAt();
      if (next === undefined || next > target) break;
      await this.#clock.advanceTo(next);
    }
    await this.#clock.advanceTo(target);
    await this.#settled();
  }

  async #drain(horizonMs: number): Promise<void> {
    const limit = this.#clock.now() + horizonMs;
    for (;;) {
      await this.#settled();
      if (this.#engine.pendingCount() === 0) return;
      if (!canMove(this.#user)) {
        const pending = pendingMessages(this.#user, this.#records);
        throw new TestHarnessError(
          "STUCK",
          `drain() cannot finish: ${pending.length} message(s) are pending and nothing will move them:\n${list(pending)}`,
          { pending },
        );
      }
      const next = this.#clock.nextAt()!;
      if (next > limit) {
        const pending = pendingMessages(this.#user, this.#records);
        throw new TestHarnessError(
          "DRAIN_HORIZON",
          `drain() reached its horizon (${new Date(limit).toISOString()}, ${horizonMs / 1000}s of virtual time) with ${pending.length} message(s) still pending:\n${list(pending)}\nadvance() further, or pass drain({ horizon }) for a longer one`,
          { pending },
        );
      }
      await this.#clock.advanceTo(next);
    }
  }

  /** Waits for every delivery in flight, then throws what went wrong during it, once. */
  async #settled(): Promise<void> {
    await this.#clock.settle();
    const fault = this.#fault;
    if (fault) {
      this.#fault = undefined;
      throw fault;
    }
  }

  #hung(request: OutgoingRequest, ms: number): void {
    const id = request.headers["Upstash-Message-Id"] ?? "";
    const msg = this.#user.messages.get(id);
    const { jobId, hook } = msg ? this.#records.describe(msg) : { jobId: request.url, hook: undefined };
    const what = hook ? `${hook} of job "${jobId}"` : `job "${jobId}"`;
    const attempt = Number(request.headers["Upstash-Retried"] ?? 0) + 1;
    this.#fault ??= new TestHarnessError(
      "NEVER_SETTLED",
      `${what} (message ${id}, attempt ${attempt}) did not settle within ${ms} ms of real time, and it has no timeout: make sure it returns (a mock that never resolves?), give the job a timeout, or raise createTestJobstash({ attemptTimeout }). The attempt counts as timed out.`,
    );
  }

  /** Messages from `jobs.trigger` / `jobs.batch` (built and validated there), into the engine. */
  async #publish(messages: readonly PublishMessage[]): Promise<string[]> {
    // A bare jobs.trigger right after createTestJobstash waits for the declared queues too.
    await this.#usable();
    // Every item is checked before any is accepted, as QStash's batch endpoint does.
    const commits = messages.map((message, index) => {
      try {
        return this.#engine.accept.prepare(this.#user, {
          destination: message.url,
          headers: new Map(Object.entries(messageHeaders(message))),
          body: message.body === undefined ? undefined : Buffer.from(JSON.stringify(message.body)),
          queueName: message.queueName,
          callerIp: CALLER_IP,
        });
      } catch (error) {
        if (!(error instanceof DevServerError)) throw error;
        const where = messages.length > 1 ? `batch item ${index}: ` : "";
        // What trigger throws when QStash refuses a message.
        throw new PublishError(`${where}${error.message}`, error.status);
      }
    });
    return commits.map((commit) => (commit().result as PublishResult).messageId);
  }

  #known(id: string, where: string): void {
    if (this.#jobs.jobs.has(id)) return;
    throw new TestHarnessError(
      "UNKNOWN_JOB",
      `${where}(): unknown job ${JSON.stringify(id)}; known jobs: ${[...this.#jobs.jobs.keys()].join(", ") || "(none)"}`,
    );
  }

  #unknownMessage(id: string): TestHarnessError {
    return new TestHarnessError(
      "UNKNOWN_MESSAGE",
      `no message ${JSON.stringify(id)} in this harness; ids come from t.trigger, t.batch, t.runs() and t.dlq()`,
    );
  }
}

type AnyTrigger = (id: string, input: unknown, options?: TriggerOptions) => Promise<string>;

const closed = () =>
  new TestHarnessError("CLOSED", "this test harness is closed; create a new one with createTestJobstash()");

function list(pending: readonly { messageId: string; jobId: string; hook?: string; reason: string }[]) {
  return pending
    .map((p) => `  - ${p.messageId} (${p.hook ? `${p.hook} of ` : ""}job "${p.jobId}"): ${p.reason}`)
    .join("\n");
}
