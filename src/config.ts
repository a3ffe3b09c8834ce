import { ConfigError } from "./errors.js";
import { DEFAULT_PUBLISH_TIMEOUT_MS, type QStashTarget } from "./qstash.js";
import { type Duration, toMilliseconds } from "./util/duration.js";
import { httpUrl, normalBaseUrl } from "./util/http-url.js";

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
  /** The QStash API that `trigger` and `batch` publish to. */
  qstash?: {
    /** @default env QSTASH_URL, else https://qstash.upstash.io */
    url?: string;
    /** @default env QSTASH_TOKEN */
    token?: string;
    /**
     * How long one request to QStash may take, network retries included (seconds, or a
     * string such as `"500ms"`, `"30s"`); then it is aborted and `trigger` throws
     * `PublishError`. `batch` sends one request per 100 messages.
     * @default "10s"
     */
    timeout?: Duration;
  };
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
  /** Where to publish: URL, token and timeout, checked (an http(s) URL; no dev token bound for Upstash). */
  qstash(): Required<QStashTarget>;
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
      if (raw !== lastBaseUrl.raw) lastBaseUrl = { raw, normalized: normalizeBaseUrl(raw) };
      return lastBaseUrl.normalized;
    },

    qstash() {
      const tokenSetting = options.qstash?.token ? "qstash.token" : "QSTASH_TOKEN";
      const token = options.qstash?.token ?? read("QSTASH_TOKEN");
      if (!token) {
        throw unset(
          "QStash token",
          "QSTASH_TOKEN",
          "qstash: { token }",
          "; for local development run `jobstash dev`, which prints one",
        );
      }
      const fromEnv = read("QSTASH_URL");
      const urlSetting = options.qstash?.url ? "qstash.url" : fromEnv ? "QSTASH_URL" : "default";
      const url = trimSlashes(options.qstash?.url ?? fromEnv ?? DEFAULT_QSTASH_URL);
      checkQStashUrl(url, urlSetting, token, tokenSetting);
      return { url, token, timeout: publishTimeout(options.qstash?.timeout), urlSetting };
    },

    signingKeys() {
      // An empty key is no key, as an empty variable is (read() skips those): never an HMAC key.
      const current = options.signingKeys?.current || read("QSTASH_CURRENT_SIGNING_KEY");
      const next = options.signingKeys?.next || read("QSTASH_NEXT_SIGNING_KEY");
      if (!current && !next) {
        throw unset(
          "signing keys to verify QStash deliveries",
          "QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY",
          "signingKeys",
          " from the Upstash console (QStash tab)",
        );
      }
      return { current: (current || next)!, next: (next || current)! };
    },
  };
}

let lastBaseUrl = { raw: "", normalized: "" };

const DEFAULT_QSTASH_URL = "https://qstash.upstash.io";

/**
 * The tokens of QStash's four local-development users (the QStash docs, "Local development"),
 * which `jobstash dev` and Upstash's own `qstash dev` accept. They are public test values, kept
 * here because the core must not import the dev server (src/dev-server/engine/users.ts, Node
 * only); test/trigger.test.ts checks that this list matches the dev server's users. Real
 * tokens have the same base64-JSON shape, so only the values tell them apart.
 */
const DEV_TOKENS = [
  "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=",
  "eyJVc2VySUQiOiJ0ZXN0VXNlcjEiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
  "eyJVc2VySUQiOiJ0ZXN0VXNlcjIiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
  "eyJVc2VySUQiOiJ0ZXN0VXNlcjMiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
];

/**
 * Refuse, before anything is sent, a QStash URL that cannot work: one that is not an http(s)
 * URL, or Upstash's own API with a dev server's token (QSTASH_TOKEN copied from `jobstash dev`
 * without QSTASH_URL), which QStash would only answer with a puzzling 401.
 */
function checkQStashUrl(url: string, urlSetting: string, token: string, tokenSetting: string): void {
  const parsed = httpUrl(url);
  const named = urlSetting === "default" ? "the default QStash URL" : urlSetting;
  if (!parsed) {
    throw new ConfigError(
      `${named} ${JSON.stringify(url)} is not an absolute http(s) URL: use ${DEFAULT_QSTASH_URL} (or your region's URL from the Upstash console), or the URL \`jobstash dev\` prints`,
    );
  }
  const upstash = parsed.hostname === "upstash.io" || parsed.hostname.endsWith(".upstash.io");
  if (upstash && DEV_TOKENS.includes(token)) {
    throw new ConfigError(
      `${tokenSetting} is a token of the local dev server, but ${named} is ${url}, Upstash's QStash: set QSTASH_URL to the dev server's URL (\`jobstash dev\` prints it, e.g. QSTASH_URL=http://127.0.0.1:8080), or use your Upstash token`,
    );
  }
}

/** Milliseconds of `qstash.timeout`, checked. */
function publishTimeout(timeout: Duration | undefined): number {
  if (timeout === undefined) return DEFAULT_PUBLISH_TIMEOUT_MS;
  let ms: number | undefined;
  try {
    ms = toMilliseconds(timeout);
  } catch {}
  if (!ms) {
    throw new ConfigError(
      `createJobstash: qstash.timeout must be a duration above 0, in seconds or a string like "500ms" or "30s" (got ${JSON.stringify(timeout)})`,
    );
  }
  return ms;
}

function normalizeBaseUrl(raw: string): string {
  const normalized = normalBaseUrl(raw);
  if (!normalized) {
    throw new ConfigError(
      `JOBSTASH_BASE_URL ${JSON.stringify(raw)} must be an absolute http(s) URL without a query or fragment, ${EXAMPLE_BASE_URL}`,
    );
  }
  return normalized;
}
