import { QSTASH_NAME } from "../../../protocol.js";
import type { Core } from "../core.js";
import { badRequest, notFound } from "../errors.js";
import { checkUrl } from "../message-config.js";
import type { Endpoint, UrlGroup, UserState } from "../model.js";

/** `/v2/topics`: URL groups, whose endpoints each get a copy of a message published to the group. */
export class Groups {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  addEndpoints(user: UserState, name: string, endpoints: Endpoint[]): void {
    if (!QSTASH_NAME.test(name)) {
      throw badRequest(
        `invalid URL group name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`,
      );
    }
    for (const ep of endpoints) checkUrl("endpoint url", ep.url);
    const now = this.#core.clock.now();
    let g = user.groups.get(name);
    if (!g) {
      g = { name, createdAt: now, updatedAt: now, endpoints: [] };
      user.groups.set(name, g);
    }
    for (const ep of endpoints) {
      const i = g.endpoints.findIndex((e) => e.url === ep.url || (ep.name && e.name === ep.name));
      const clean: Endpoint = ep.name ? { name: ep.name, url: ep.url } : { url: ep.url };
      if (i >= 0) g.endpoints[i] = clean;
      else g.endpoints.push(clean);
    }
    g.updatedAt = now;
    this.#core.store.touched(user, "group", name);
  }

  removeEndpoints(user: UserState, name: string, endpoints: { name?: string; url?: string }[]): void {
    const g = this.get(user, name);
    g.endpoints = g.endpoints.filter(
      (e) => !endpoints.some((r) => (r.url && r.url === e.url) || (r.name && r.name === e.name)),
    );
    g.updatedAt = this.#core.clock.now();
    // QStash drops a group with its last endpoint.
    if (g.endpoints.length === 0) user.groups.delete(name);
    this.#core.store.touched(user, "group", name);
  }

  get(user: UserState, name: string): UrlGroup {
    const g = user.groups.get(name);
    if (!g) throw notFound(`URL group ${JSON.stringify(name)} not found`);
    return g;
  }

  list(user: UserState): UrlGroup[] {
    return [...user.groups.values()];
  }

  delete(user: UserState, name: string): void {
    user.groups.delete(name);
    this.#core.store.touched(user, "group", name);
  }
}
