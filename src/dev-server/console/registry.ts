import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { EnvSource } from "../../config.js";
import { failIn, issuePath } from "../../errors.js";
import { checkDeliveryOptions } from "../../job/define.js";
import type { AnyJob } from "../../job/types.js";
import { type AnyJobstash, internals, type TriggerOptions } from "../../jobstash.js";
import { buildRequest } from "../../message.js";
import { jobUrl, messageHeaders } from "../../protocol.js";
import type { HeaderMap } from "../engine/message-config.js";

/** One problem with an input, as the Trigger and Edit-and-retry forms show it. */
export interface Issue {
  /** `a.b[0]`, or "" for the input as a whole. */
  path: string;
  message: string;
}

/** A publish for the engine, as `jobs.trigger` would send it over HTTP. */
export interface PreparedPublish {
  destination: string;
  headers: HeaderMap;
  body: Buffer | undefined;
  queueName?: string;
}

/**
 * The app's registry as the console uses it: the jobs, the URL each is delivered to, and
 * validation and publishing exactly as `jobs.trigger` does them. Without a registry (none
 * given, or it failed to load) the console still shows everything the engine holds, by URL.
 */
export class Registry {
  readonly jobs: readonly AnyJob[];
  readonly #registry: AnyJobstash | undefined;
  readonly #env: EnvSource | undefined;

  constructor(
    registry: AnyJobstash | undefined,
    env: EnvSource | undefined,
    /** Why there is no registry: the config file's load error. */
    readonly loadError?: string,
  ) {
    this.#registry = registry;
    this.#env = env;
    this.jobs = registry ? [...registry.jobs.values()] : [];
  }

  get app(): string | undefined {
    return this.#registry?.app;
  }

  job(id: string): AnyJob | undefined {
    return this.#registry?.jobs.get(id);
  }

  /** Where jobs are delivered (`JOBSTASH_BASE_URL`), or why it is not known. */
  baseUrl(): { url: string } | { error: string } {
    if (!this.#registry) return { error: this.loadError ?? "no registry" };
    try {
      return { url: internals(this.#registry).config(this.#env).baseUrl() };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  /** The job a message URL is delivered to; callbacks (`?callback=`) belong to no job's schema. */
  jobOf(url: string): AnyJob | undefined {
    const base = this.baseUrl();
    if (!("url" in base) || !url.startsWith(`${base.url}/`)) return undefined;
    return this.job(url.slice(base.url.length + 1));
  }

  /** The URL a job's messages go to, when the base URL is known. */
  urlOf(job: AnyJob): string | undefined {
    const base = this.baseUrl();
    return "url" in base ? jobUrl(base.url, job.id) : undefined;
  }

  /** The input checked against the job's schema: its parsed value, or the issues. */
  async validate(job: AnyJob, input: unknown): Promise<{ value: unknown } | { issues: Issue[] }> {
    const result: StandardSchemaV1.Result<unknown> = await job.input["~standard"].validate(input);
    if (result.issues) {
      return { issues: result.issues.map((i) => ({ path: issuePath(i), message: i.message })) };
    }
    return { value: result.value };
  }

  /**
   * What `jobs.trigger(job.id, input, options)` publishes, built by the same code: the options
   * checked, the input validated, then `buildRequest` and `messageHeaders`. A bad option throws
   * the `ConfigError` trigger would throw; a bad input gives its issues.
   */
  async prepare(
    job: AnyJob,
    input: unknown,
    options: TriggerOptions,
  ): Promise<PreparedPublish | { issues: Issue[] }> {
    const where = `trigger("${job.id}")`;
    const fail = failIn(where);
    checkDeliveryOptions(options, fail);
    const checked = await this.validate(job, input);
    if ("issues" in checked) return checked;
    const config = internals(this.#registry!).config(this.#env);
    const message = buildRequest(job, input, checked.value, options, config, fail);
    const body = JSON.stringify(message.body);
    return {
      destination: message.url,
      headers: new Map(Object.entries(messageHeaders(message))),
      body: body === undefined ? undefined : Buffer.from(body),
      queueName: message.queueName,
    };
  }
}
