import type { Core } from "../core.js";
import { notFound } from "../errors.js";
import { type Filter, messageMatches } from "../filters.js";
import type { Message, UserState } from "../model.js";

/** `/v2/messages`: look up and cancel messages that are not final yet. */
export class Messages {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  get(user: UserState, id: string): Message {
    const msg = user.messages.get(id);
    if (!msg)
      throw notFound(
        `message ${JSON.stringify(id)} not found (unknown, or already delivered, failed or cancelled)`,
      );
    return msg;
  }

  cancel(user: UserState, id: string): void {
    this.#core.transitions.cancelRequested(this.get(user, id));
  }

  /** Cancels the messages with these ids, or at most `count` matching a filter; returns how many. */
  cancelMany(user: UserState, ids: string[] | undefined, filter: Filter, count: number): number {
    const { transitions } = this.#core;
    if (ids) {
      let n = 0;
      for (const id of ids) {
        const msg = user.messages.get(id);
        if (msg && !msg.cancelRequested) {
          transitions.cancelRequested(msg);
          n++;
        }
      }
      return n;
    }
    const matches: Message[] = [];
    for (const msg of user.messages.values()) {
      if (matches.length >= count) break;
      if (!msg.cancelRequested && messageMatches(msg, filter, msg.createdAt)) matches.push(msg);
    }
    // Collected first: cancelling removes messages from the map being walked.
    for (const msg of matches) transitions.cancelRequested(msg);
    return matches.length;
  }
}
