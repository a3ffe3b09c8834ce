import { ConfigError } from "./errors.js";

/** Where settings may come from besides the options: Workers bindings, `process.env`, a plain object. */
export type EnvSource = Record<string, unknown>;

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

const DEFAULT_QSTASH_URL = "https://qstash.upstash.io";

/** The variables jobstash reads; the names users set in their platform's settings. */
export const ENV = {
  baseUrl: "JOBSTASH_BASE_URL",
  qstashUrl: "QSTASH_URL",
  token: "QSTASH_TOKEN",
  currentKey: "QSTASH_CURRENT_SIGNING_KEY",
  nextKey: "QSTASH_NEXT_SIGNING_KEY",
} as const;

function processEnv(): EnvSource | undefined {
  // Read through globalThis so no Node typing or polyfill is pulled into edge bundles.
  return (globalThis as { process?: { env?: EnvSource } }).process?.env;
}

/**
 * Settings resolved for one call or one request. Nothing is read at import time: on Workers
 * the bindings only exist per request, and tests change variables between calls.
 */
export class Config {
  constructor(
    private readonly options: ConfigOptions,
    private readonly bindings?: EnvSource,
  ) {}

  /** The environment handed to jobs: the request's bindings, else the configured env, else process.env. */
  get env(): EnvSource {
    return this.bindings ?? this.options.env ?? processEnv() ?? {};
  }

  private read(name: string): string | undefined {
    for (const source of [this.bindings, this.options.env, processEnv()]) {
      const value = source?.[name];
      if (typeof value === "string" && value !== "") return value;
    }
    return undefined;
  }

  /** The public base URL, without a trailing slash. */
  baseUrl(): string {
    const raw = this.options.baseUrl ?? this.read(ENV.baseUrl);
    if (!raw) {
      throw new ConfigError(
        `no public base URL: set ${ENV.baseUrl} (or createJobstash({ baseUrl })) to the URL your job routes are mounted at, e.g. https://example.com/api/jobs`,
      );
    }
    // Resolved on every delivery, and URL parsing is costly; the setting almost never changes.
    if (raw !== lastBaseUrl.raw) lastBaseUrl = { raw, normalised: normaliseBaseUrl(raw) };
    return lastBaseUrl.normalised;
  }

  qstash(): { url: string; token: string } {
    const token = this.options.qstash?.token ?? this.read(ENV.token);
    if (!token) {
      throw new ConfigError(
        `no QStash token: set ${ENV.token} (or createJobstash({ qstash: { token } })); for local development run \`jobstash dev\`, which prints one`,
      );
    }
    const url = (this.options.qstash?.url ?? this.read(ENV.qstashUrl) ?? DEFAULT_QSTASH_URL).replace(
      /\/+$/,
      "",
    );
    return { url, token };
  }

  /** Current and next signing keys; with only one set, it serves as both. */
  signingKeys(): { current: string; next: string } {
    const current = this.options.signingKeys?.current ?? this.read(ENV.currentKey);
    const next = this.options.signingKeys?.next ?? this.read(ENV.nextKey);
    if (!current && !next) {
      throw new ConfigError(
        `no signing keys to verify QStash deliveries: set ${ENV.currentKey} and ${ENV.nextKey} (Upstash console, QStash tab) or createJobstash({ signingKeys })`,
      );
    }
    return { current: (current ?? next)!, next: (next ?? current)! };
  }
}

let lastBaseUrl = { raw: "", normalised: "" };

function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      `${ENV.baseUrl} ${JSON.stringify(raw)} is not an absolute URL; use e.g. https://example.com/api/jobs`,
    );
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash) {
    throw new ConfigError(
      `${ENV.baseUrl} ${JSON.stringify(raw)} must be an http(s) URL without a query or fragment`,
    );
  }
  // Normalised the way the URL parser does it, since QStash signs the URL it was given after
  // the SDK has passed it through that same parser.
  return url.href.replace(/\/+$/, "");
}
