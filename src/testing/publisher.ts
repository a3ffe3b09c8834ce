import { AsyncLocalStorage } from "node:async_hooks";
import type { AnyJobstash, EnvSource } from "jobstash";
import { internals, type JobstashInternals, type Publisher } from "../jobstash.js";
import type { PublishMessage } from "../protocol.js";
import { TestHarnessError } from "./errors.js";

/** A harness as the registry's publisher sees it. */
export interface Capture {
  /** Settings for triggers that name no bindings of their own (the harness's env). */
  readonly env: EnvSource;
  /** Accepts messages into the harness's engine; resolves to their ids. */
  publish(messages: readonly PublishMessage[]): Promise<string[]>;
}

/** The harness whose delivery is running: a job's `jobs.trigger` goes back to it. */
const current = new AsyncLocalStorage<Capture>();

/** Per registry: its open harnesses, and the publisher installed on it while there are any. */
interface Router {
  open: Set<Capture>;
  publisher: Publisher;
}
const routers = new WeakMap<JobstashInternals, Router>();
const routerOf = new WeakMap<Capture, Router>();

/**
 * Runs `fn` (a delivery, or a trigger through the harness) with `capture` as the harness in
 * charge, so any `jobs.trigger` it makes, however deep, lands in that harness.
 */
export function within<T>(capture: Capture, fn: () => T): T {
  // Only while another harness shares the registry: on Node 20 a running AsyncLocalStorage
  // hooks every promise in the process, and with one harness open there is nothing to tell.
  const shared = (routerOf.get(capture)?.open.size ?? 0) > 1;
  return shared ? current.run(capture, fn) : fn();
}

/**
 * Makes `jobs.trigger` and `jobs.batch` publish into `capture` instead of QStash, until the
 * returned function is called. Several harnesses may be open on one registry: a trigger made
 * inside a delivery goes to the harness delivering it; one made outside any delivery goes to
 * the only open harness, and is refused with `AMBIGUOUS_HARNESS` while there are several.
 */
export function capture(jobs: AnyJobstash, capture: Capture): () => void {
  const inner = internals(jobs);
  let router = routers.get(inner);
  if (!router) {
    const open = new Set<Capture>();
    const pick = (): Capture => {
      const running = current.getStore();
      if (running && open.has(running)) return running;
      if (open.size === 1) return open.values().next().value!;
      throw new TestHarnessError(
        "AMBIGUOUS_HARNESS",
        `jobs.trigger was called outside any delivery while ${open.size} test harnesses are open on app "${jobs.app}", so it cannot tell which one it belongs to; trigger through the harness (t.trigger), or close the other harness first (await t.close() in afterEach)`,
      );
    };
    router = { open, publisher: { env: () => pick().env, publish: (messages) => pick().publish(messages) } };
    routers.set(inner, router);
  }
  if (inner.publisher && inner.publisher !== router.publisher) {
    throw new TestHarnessError(
      "AMBIGUOUS_HARNESS",
      `app "${jobs.app}" is already captured by another copy of jobstash/testing (ESM and CJS both loaded?); use one module system in the tests`,
    );
  }
  const { open, publisher } = router;
  open.add(capture);
  routerOf.set(capture, router);
  inner.publisher = publisher;
  return () => {
    open.delete(capture);
    if (open.size === 0 && inner.publisher === publisher) inner.publisher = undefined;
  };
}
