import type { LogEntry, Message, UserState } from "../model.js";

/** What the store tracks by key besides messages: the flush writes what the user holds under the key then, or its deletion. */
export type Kind = "schedule" | "queue" | "group" | "flow" | "dlq" | "dedup" | "keys";

/**
 * Where the engine's state lives. The engine marks what it changed; the store decides when
 * and how it is written. Marks are cheap (a set insert): the state itself is read when it is
 * written, so a message accepted and delivered within one flush costs one record, not three.
 */
export interface Store {
  /** A new message entered the live set. */
  created(msg: Message): void;
  /** A message's state changed (phase, retries, queue slot, cancel request), or it became final. */
  changed(msg: Message): void;
  logged(entry: LogEntry): void;
  touched(user: UserState, kind: Kind, key: string): void;
  /**
   * Resolves once everything marked so far is durable; rejects when it could not be written.
   * `undefined` when there is nothing to wait for, so memory mode costs no extra tick.
   */
  commit(): Promise<void> | undefined;
  /** Replays what the store holds into `users`; `undefined` for a store that holds nothing. */
  load(users: Iterable<UserState>, maxLogs: number): Loaded | undefined;
  close(): Promise<void>;
}

/** What a store held at start, for the engine to resume. */
export interface Loaded {
  /** Messages not yet final, in acceptance order. */
  live: Message[];
  /** Final messages whose callbacks are pending, and so still hold their queue slot. */
  slotHolders: Set<Message>;
  /** The highest acceptance order seen; new messages continue after it. */
  maxOrder: number;
}

const nothing = () => {};

/** State in memory only: every mark is a no-op. */
export const memoryStore: Store = {
  created: nothing,
  changed: nothing,
  logged: nothing,
  touched: nothing,
  commit: () => undefined,
  load: () => undefined,
  close: async () => {},
};
