import type { Context } from "hono";
import type { EnvSource } from "../../config.js";
import type { AnyJobstash } from "../../jobstash.js";
import type { Engine } from "../engine/engine.js";
import { DevServerError } from "../engine/errors.js";
import type { UserState } from "../engine/model.js";
import { DEFAULT_DEV_USER } from "../engine/users.js";
import { Registry } from "./registry.js";

/** Options of the dev console (`createDevServer({ console })`). */
export interface ConsoleOptions {
  /**
   * The app's registry (what `createJobstash` returns): the console lists its jobs with their
   * schemas and schedules, validates the Trigger form and Edit and retry against each job's
   * schema, and names messages by job. A promise is awaited (`jobstash dev` loads the config
   * file while the server starts); a rejected one is shown on the Jobs page as the load error.
   * @default undefined (the console shows messages by URL, and no jobs)
   */
  jobs?: AnyJobstash | Promise<AnyJobstash>;
  /**
   * Where the registry reads its settings when the console triggers a job, `JOBSTASH_BASE_URL`
   * above all (the URL jobs are delivered to).
   * @default process.env
   */
  env?: EnvSource;
}

/** What a console request sees: the engine, the registry, and the user it acts as. */
export interface View {
  engine: Engine;
  registry: Registry;
  user: UserState;
  users: readonly UserState[];
  /** The engine's clock (a virtual clock in tests). */
  now: number;
  /** The request URL (its query holds the filters). */
  url: URL;
}

/** The cookie that remembers which dev user the console acts as. */
export const USER_COOKIE = "jobstash_console_user";

/** Resolves the registry once, whatever the request that asks first. */
export function registryLoader(options: ConsoleOptions): () => Promise<Registry> {
  let loaded: Promise<Registry> | undefined;
  return () => {
    loaded ??= Promise.resolve(options.jobs).then(
      (jobs) => new Registry(jobs, options.env),
      (error: unknown) => new Registry(undefined, options.env, (error as Error)?.message ?? String(error)),
    );
    return loaded;
  };
}

/** The user the console acts as: the cookie's, else the default dev user. */
export function consoleUser(c: Context, engine: Engine): { user: UserState; users: UserState[] } {
  const users = [...engine.users.all()];
  const wanted = /(?:^|;\s*)jobstash_console_user=([^;]+)/.exec(c.req.header("cookie") ?? "")?.[1];
  const user =
    users.find((u) => u.userId === wanted) ??
    users.find((u) => u.userId === DEFAULT_DEV_USER.userId) ??
    users[0];
  if (!user) throw new Error("the dev server has no users");
  return { user, users };
}

/**
 * A console form may only be sent from the console's own pages: a page elsewhere in the
 * browser could otherwise post to 127.0.0.1 (cross-site request forgery). Browsers send
 * `Origin` on every POST; a request without one (curl) is a person's own.
 */
export function checkSameOrigin(c: Context): void {
  const origin = c.req.header("origin");
  const site = c.req.header("sec-fetch-site");
  if (site === "cross-site" || (origin !== undefined && originHost(origin) !== hostOf(c))) {
    throw new DevServerError(403, "console actions are accepted from the console's own pages only");
  }
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined; // "null" (a sandboxed frame, a file) is nobody's console
  }
}

function hostOf(c: Context): string {
  return c.req.header("host") ?? new URL(c.req.url).host;
}
