import { DevServerError } from "../errors.js";
import { UserState } from "../model.js";
import { newSigningKey } from "../signing.js";
import type { Store } from "../store/store.js";
import type { DevUser } from "../users.js";

/** The dev users by token; each token is a world of its own (messages, queues, schedules, DLQ). */
export class Users {
  readonly #byToken = new Map<string, UserState>();
  readonly #store: Store;

  constructor(users: readonly DevUser[], store: Store) {
    this.#store = store;
    for (const u of users) {
      this.#byToken.set(
        u.token,
        new UserState(u.userId, u.token, u.currentSigningKey, u.nextSigningKey, u.userId === "defaultUser"),
      );
    }
  }

  /** The user a token belongs to; 401 when it is none of the known tokens. */
  byToken(token: string | undefined): UserState {
    if (!token) {
      throw new DevServerError(
        401,
        "missing token: send Authorization: Bearer <QSTASH_TOKEN> (or ?qstash_token=)",
      );
    }
    const user = this.#byToken.get(token);
    if (!user) {
      throw new DevServerError(
        401,
        "unknown token: use one of the dev users' QSTASH_TOKEN values printed by `jobstash dev`",
      );
    }
    return user;
  }

  all(): IterableIterator<UserState> {
    return this.#byToken.values();
  }

  keys(user: UserState): { current: string; next: string } {
    return { current: user.currentSigningKey, next: user.nextSigningKey };
  }

  /** The next key becomes current and a new next key is made; the default user's never change. */
  rotateKeys(user: UserState): { current: string; next: string } {
    if (!user.fixedKeys) {
      user.currentSigningKey = user.nextSigningKey;
      user.nextSigningKey = newSigningKey();
      this.#store.touched(user, "keys", "");
    }
    return this.keys(user);
  }
}
