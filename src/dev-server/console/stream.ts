import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Engine } from "../engine/engine.js";
import type { LifecycleEvent } from "../engine/logs.js";
import type { UserState } from "../engine/model.js";

/**
 * Server-Sent Events from the engine's event stream, for one user's pages. Events that arrive
 * while a write is under way are sent together as one batch, so a burst of 100,000 messages
 * costs a handful of writes, not one each; the page only needs to know that something changed.
 */
export function streamEvents(c: Context, engine: Engine, user: UserState): Response | Promise<Response> {
  return streamSSE(c, async (stream) => {
    let batch: { messageId: string; state: string }[] = [];
    let dropped = 0;
    let wake: (() => void) | undefined;
    let open = true;
    const unsubscribe = engine.events.subscribe((e: LifecycleEvent) => {
      if (e.userId !== user.userId) return;
      // A page needs to know what changed, not every detail of a burst.
      if (batch.length < 100) batch.push({ messageId: e.messageId, state: e.state });
      else dropped++;
      wake?.();
    });
    stream.onAbort(() => {
      open = false;
      unsubscribe();
      wake?.();
    });
    try {
      await stream.writeSSE({ event: "ready", data: user.userId });
      while (open) {
        if (batch.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (!open || batch.length === 0) continue;
        const data = JSON.stringify({ events: batch, more: dropped });
        batch = [];
        dropped = 0;
        await stream.writeSSE({ data });
      }
    } catch {
      // The page went away while a write was under way: nothing to report.
    } finally {
      unsubscribe();
    }
  });
}
