import { ConfigError } from "./errors.js";

/**
 * Where settings may come from besides the options: Workers bindings, `process.env`, a plain
 * object. `any`, not `unknown`, so that an interface such as the `Env` that `wrangler types`
 * generates is accepted (TypeScript gives interfaces no implicit index signature); values are
 * only ever read after a `typeof` check.
 */
export type EnvSource = Record<string, any>;

/** Settings `createJobstash` accepts explicitly; each falls back to an environment variable. */
export interface ConfigOptions {
  /**
   * Public URL the job routes are mounted at, e.g. `https://example.com/api/jobs`. Each job
   * is delivered to `<baseUrl>/<jobId>`, and signatures are checked against that URL.
   * @default env JOBSTASH_BASE_URL
   */
  baseUrl?: string;
  /** QStash API. url @default env QSTASH_URL, else https://qstash.upstash.io; token @default env QSTASH_TOKEN */
  qstash?: { url?: string; token?: string };
  /** Keys deliveries are verified with. @default env QSTASH_CURRENT_SIGNING_KEY / QSTASH_NEXT_SIGNING_KEY */
  signingKeys?: { current?: string; next?: string };
  /** Extra place to read the variables from, tried after the request's own bindings. @default process.env */
  env?: EnvSource;
}

/**
 * Settings resolved for one call or one request. Nothing is read at import time: on Workers
 * the bindings only exist per request, and tests change variables between calls.
 */
export interface Config {
  /** The environment handed to jobs: the request's bindings, else the configured env, else process.env. */
  readonly env: EnvSource;
  /** The public base URL, without a trailing slash. */
  baseUrl(): string;
  qstash(): { url: string; token: string };
  /** Current and next signing keys; with only one set, it serves as both. */
  signingKeys(): { current: string; next: string };
}

const EXAMPLE_BASE_URL = "e.g. https://example.com/api/jobs";

/** A setting found nowhere: which variable (or option) to set, and what to set it to. */
function unset(what: string, variables: string, option: string, hint: string): ConfigError {
  return new ConfigError(`no ${what}: set ${variables} (or createJobstash({ ${option} }))${hint}`);
}

/** The settings for one call or request: the options, then `bindings`, `options.env` and `process.env`. */
export function resolveConfig(options: ConfigOptions, bindings?: EnvSource): Config {
  // process is read through globalThis so no Node typing or polyfill is pulled into edge bundles.
  const sources = [bindings, options.env, (globalThis as { process?: { env?: EnvSource } }).process?.env];
  const read = (name: string): string | undefined => {
    for (const source of sources) {
      const value = source?.[name];
      if (typeof value === "string" && value !== "") return value;
    }
    return undefined;
  };
  const trimSlashes = (url: string) => url.replace(/\/+$/, "");

  return {
    env: sources.find(Boolean) ?? {},

    baseUrl() {
      const raw = options.baseUrl ?? read("JOBSTASH_BASE_URL");
      if (!raw) {
        throw unset(
          "public base URL",
          "JOBSTASH_BASE_URL",
          "baseUrl",
          ` to the URL your job routes are mounted at, ${EXAMPLE_BASE_URL}`,
        );
      }
      // Resolved on every delivery, and URL parsing is costly; the setting almost never changes.
      if (raw !== lastBaseUrl.raw) lastBaseUrl = { raw, normalised: normaliseBaseUrl(raw) };
      return lastBaseUrl.normalised;
    },

    qstash() {
      const token = options.qstash?.token ?? read("QSTASH_TOKEN");
      if (!token) {
        throw unset(
          "QStash token",
          "QSTASH_TOKEN",
          "qstash: { token }",
          "; for local development run `jobstash dev`, which prints one",
        );
      }
      return {
        url: trimSlashes(options.qstash?.url ?? read("QSTASH_URL") ?? "https://qstash.upstash.io"),
        token,
      };
    },

    signingKeys() {
      const current = options.signingKeys?.current ?? read("QSTASH_CURRENT_SIGNING_KEY");
      const next = options.signingKeys?.next ?? read("QSTASH_NEXT_SIGNING_KEY");
      if (!current && !next) {
        throw unset(
          "signing keys to verify QStash deliveries",
          "QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY",
          "signingKeys",
          " from the Upstash console (QStash tab)",
        );
      }
      return { current: (current ?? next)!, next: (next ?? current)! };
    },
  };
}

let lastBaseUrl = { raw: "", normalised: "" };

function normaliseBaseUrl(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {}
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash) {
    throw new ConfigError(
      `JOBSTASH_BASE_URL ${JSON.stringify(raw)} must be an absolute http(s) URL without a query or fragment, ${EXAMPLE_BASE_URL}`,
    );
  }
  // Normalised the way the URL parser does it, since QStash signs the URL it was given after
  // the SDK has passed it through that same parser.
  return url.href.replace(/\/+$/, "");
}
