import type { AnyJob, AnyJobstash } from "jobstash";
import { type Config, resolveConfig } from "../config.js";
import { internals } from "../jobstash.js";
import { callbackUrl, jobUrl, route } from "../protocol.js";
import { type QStashTarget, statusOf } from "../qstash.js";
import { parseDuration } from "../util/duration.js";
import { loadEnvFiles, type SettingSources } from "./env-files.js";
import { ConfigNotFoundError, InputError, isBadInput, OperationError } from "./errors.js";
import { loadConfig } from "./load-config.js";
import { didYouMean } from "./shared.js";

/**
 * What the commands that operate on QStash share (trigger, logs, dlq, schedules, doctor):
 * the settings (the environment, then the app's env files), the registry from
 * jobstash.config.ts when there is one, the QStash to talk to, and QStash's errors in words.
 */

/** Options every such command takes. */
export const OPS_OPTIONS = {
  config: { type: "string", short: "c" },
  "env-file": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Their help lines, for the end of each command's option list, aligned at `column`. */
export function opsHelp(column = 27): string {
  const rows: [string, string[]][] = [
    [
      "  -c, --config <file>",
      ["Module exporting the createJobstash() registry", "(default: jobstash.config.ts, .mts, .js or .mjs)"],
    ],
    [
      "      --env-file <file>",
      [
        "Read settings from this file (default: .env.local, .env,",
        ".dev.vars; variables set in the environment win)",
      ],
    ],
    ["      --json", ["Print JSON (the shapes are in the README)"]],
    ["  -h, --help", ["Show this help"]],
  ];
  return rows
    .flatMap(([flag, text]) => text.map((line, i) => `${(i === 0 ? flag : "").padEnd(column)}${line}`))
    .join("\n");
}

/** Where the job of a message's URL is, as the receiver routes it. */
export interface JobOfUrl {
  /** The job id from the URL's last path segment; undefined for a URL outside the base URL. */
  jobId?: string;
  /** The job, if the registry has it. */
  job?: AnyJob;
  /** `success` or `failure` for a callback (see `callbackUrl`), else null. */
  marker: string | null;
}

export interface Ops {
  /** Where each setting came from (a file name, or "environment"). */
  sources: SettingSources;
  /** The registry, when a config file was found. */
  registry: AnyJobstash | undefined;
  /** The settings, resolved as the app resolves them (the registry's options first). */
  config: Config;
  /** The QStash to talk to; a missing or unusable setting is an InputError (exit 2) saying what to set. */
  qstash(): Required<QStashTarget>;
  /** The base URL, or undefined when none is set. */
  baseUrl(): string | undefined;
  /** The registry, or an InputError saying how to make one. */
  requireRegistry(): AnyJobstash;
  /** The job with this id, or an InputError naming the known ones (and the nearest). */
  job(id: string): AnyJob;
  /** The URLs a job's messages and its callbacks go to. */
  jobUrls(id: string): string[];
  jobOf(url: string): JobOfUrl;
  /** Run QStash calls, their failures turned into OperationErrors that say what to fix. */
  api<T>(call: (qstash: Required<QStashTarget>) => Promise<T>): Promise<T>;
}

/**
 * Read the settings and the registry. `needRegistry`: a missing config file is an error
 * (trigger); otherwise the command goes on without it (logs, dlq, schedules).
 */
export async function openOps(
  values: { config?: string; "env-file"?: string },
  options: { needRegistry?: boolean; cwd?: string; configError?: (error: Error) => void } = {},
): Promise<Ops> {
  const cwd = options.cwd ?? process.cwd();
  const sources = loadEnvFiles(cwd, values["env-file"]);
  let registry: AnyJobstash | undefined;
  let missing: Error | undefined;
  try {
    registry = await loadConfig(values.config, cwd);
  } catch (error) {
    // `configError` takes any config problem and goes on without a registry (doctor reports it).
    const tolerated =
      options.configError ||
      (error instanceof ConfigNotFoundError && !values.config && !options.needRegistry);
    if (!tolerated || !isBadInput(error)) throw error;
    missing = error;
    options.configError?.(error);
  }
  // No bindings: settings resolve exactly as the app's own `jobs.trigger` resolves them.
  const config = registry ? internals(registry).config() : resolveConfig({});

  const ops: Ops = {
    sources,
    registry,
    config,
    qstash() {
      try {
        return config.qstash();
      } catch (error) {
        throw new InputError(`${(error as Error).message}${from(sources, "QSTASH_TOKEN", "QSTASH_URL")}`);
      }
    },
    baseUrl() {
      try {
        return config.baseUrl();
      } catch (error) {
        if (/no public base URL/.test((error as Error).message)) return undefined;
        throw new InputError((error as Error).message);
      }
    },
    requireRegistry() {
      if (!registry) throw missing ?? new InputError("no registry loaded");
      return registry;
    },
    job(id) {
      const jobs = ops.requireRegistry().jobs;
      const job = jobs.get(id);
      if (job) return job;
      const near = didYouMean(id, [...jobs.keys()]);
      throw new InputError(
        `unknown job ${JSON.stringify(id)}${near ? `; did you mean ${JSON.stringify(near)}?` : ""} (known jobs: ${[...jobs.keys()].join(", ") || "none"})`,
      );
    },
    jobUrls(id) {
      const base = ops.baseUrl();
      if (!base) {
        throw new InputError(
          `--job needs the URL the job's messages go to: set JOBSTASH_BASE_URL to where your app mounts the receiver (e.g. http://localhost:3000/api/jobs)`,
        );
      }
      return [jobUrl(base, id), callbackUrl(base, id, "success"), callbackUrl(base, id, "failure")];
    },
    jobOf(url) {
      const { rawId, marker } = route(url);
      const base = ops.baseUrl();
      // Under a known base URL only its own jobs count; without one, the last segment is all there is.
      if (base && !url.startsWith(`${base}/`)) return { marker };
      if (
        base &&
        url
          .slice(base.length + 1)
          .split(/[?#]/)[0]!
          .includes("/")
      )
        return { marker };
      let jobId = rawId;
      try {
        jobId = decodeURIComponent(rawId);
      } catch {}
      return { jobId, job: registry?.jobs.get(jobId), marker };
    },
    async api(call) {
      const qstash = ops.qstash();
      try {
        return await call(qstash);
      } catch (error) {
        throw qstashFailure(error, qstash, sources);
      }
    },
  };
  return ops;
}

/** ` (QSTASH_TOKEN from .env.local)`: where the named settings came from, if from a file. */
export function from(sources: SettingSources, ...names: string[]): string {
  const byFile = new Map<string, string[]>();
  for (const name of names) {
    const file = sources.get(name);
    if (file && file !== "environment") byFile.set(file, [...(byFile.get(file) ?? []), name]);
  }
  const shown = [...byFile].map(([file, found]) => `${found.join(" and ")} from ${file}`);
  return shown.length ? ` (${shown.join(", ")})` : "";
}

/** A failed QStash call in words: a refused token says which setting to fix; exit code 1. */
export function qstashFailure(
  error: unknown,
  qstash: Required<QStashTarget>,
  sources: SettingSources,
): OperationError {
  const status = statusOf(error);
  const message = (error as Error)?.message ?? String(error);
  if (status === undefined || status === 0) return new OperationError(message);
  const said = errorText(message);
  if (status === 401 || status === 403) {
    return new OperationError(
      `QStash at ${qstash.url} refused the token (${status}${said ? `: ${said}` : ""}): set QSTASH_TOKEN to a token of that QStash${from(sources, "QSTASH_TOKEN", "QSTASH_URL")}; \`jobstash dev\` prints its own`,
    );
  }
  return new OperationError(`QStash at ${qstash.url} answered ${status}${said ? `: ${said}` : ""}`);
}

/** QStash's `{"error":"..."}`, or the text as it came. */
function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed?.error === "string") return parsed.error;
  } catch {}
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** `--since 10m` as a time (ms): now minus the duration, or an ISO 8601 time. */
export function sinceTime(text: string, now = Date.now()): number {
  const ms = parseDuration(text);
  if (ms !== undefined) return now - ms;
  const at = Date.parse(text);
  if (Number.isFinite(at) && /^\d{4}-\d\d-\d\d/.test(text)) return at;
  throw new InputError(
    `--since ${JSON.stringify(text)} is neither a duration (30s, 10m, 2h, 1d) nor an ISO 8601 time (2026-05-01T09:00:00Z)`,
  );
}

/** A whole number option (`--limit`, `--retries`) within bounds. */
export function wholeNumber(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min) {
    throw new InputError(`${name} must be a whole number ≥ ${min} (got ${JSON.stringify(text)})`);
  }
  return n;
}
