import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Client } from "@upstash/qstash";
import { createHandler, createJobstash, defineJob, NonRetryableError } from "jobstash";
import { createDevServer, DEFAULT_DEV_USER, type DevServer } from "jobstash/dev-server";
import { syncJobstash } from "jobstash/sync";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { z } from "zod";
import { eventually as pollUntil } from "../dev-server/helpers.js";
import { launchBrowser } from "./browser.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** The app the console tests look at: real jobs behind the real receiver, on real ports. */
export function defineTestJobs() {
  const seen = {
    greetings: [] as string[],
    successes: [] as string[],
    failures: [] as string[],
    /** One function per `hold` delivery in flight: calling it lets that delivery answer. */
    held: [] as (() => void)[],
  };
  const greet = defineJob({
    id: "greet",
    input: z.object({ name: z.string().min(1), times: z.number().int().min(1).default(1) }),
    run: (input) => {
      seen.greetings.push(input.name);
      return { greeting: `hello ${input.name}`.repeat(input.times) };
    },
    onSuccess: ({ input }) => {
      seen.successes.push(input.name);
    },
  });
  const charge = defineJob({
    id: "charge",
    input: z.object({ orderId: z.string(), cents: z.number().int().positive() }),
    queue: "payments",
    flowControl: { key: "psp", parallelism: 2 },
    schedules: [
      { id: "weekly", cron: "0 9 * * 1", tz: "Europe/Paris", input: { orderId: "weekly", cents: 100 } },
    ],
    run: (input) => {
      if (input.orderId.startsWith("declined"))
        throw new NonRetryableError(`card declined for ${input.orderId}`);
      return { charged: input.cents };
    },
    onFailure: ({ input }) => {
      seen.failures.push(input.orderId);
    },
  });
  const flaky = defineJob({
    id: "flaky",
    input: z.object({ attempts: z.number().int() }),
    retries: 1,
    retryDelay: 200,
    run: (input, ctx) => {
      if (ctx.attempt < input.attempts) throw new Error(`not yet (attempt ${ctx.attempt})`);
      return { ok: true };
    },
  });
  const dated = defineJob({ id: "dated", input: z.object({ at: z.date() }), run: () => undefined });
  const hold = defineJob({
    id: "hold",
    input: z.object({}),
    run: () => new Promise<void>((resolve) => seen.held.push(resolve)),
  });
  const ship = defineJob({
    id: "ship",
    input: z.object({ region: z.string() }),
    // A key per region: a shipment replayed to another region belongs to that region's key.
    flowControl: (input) => ({ key: `region-${input.region}`, rate: 100 }),
    run: (input) => {
      if (input.region === "nowhere") throw new NonRetryableError("no route to nowhere");
      return { shipped: input.region };
    },
  });
  return { jobs: [greet, charge, flaky, dated, hold, ship] as const, seen };
}

/** A dev server with the console, the app's receiver, and the official SDK client. */
export interface ConsoleApp {
  server: DevServer;
  /** The dev server's URL (QSTASH_URL). */
  url: string;
  /** The console's root. */
  console: string;
  /** The receiver's base URL (JOBSTASH_BASE_URL). */
  baseUrl: string;
  jobs: ReturnType<typeof createTestRegistry>["registry"];
  seen: ReturnType<typeof defineTestJobs>["seen"];
  client: Client;
  close(): Promise<void>;
}

function createTestRegistry(env: Record<string, string>) {
  const { jobs, seen } = defineTestJobs();
  return { registry: createJobstash({ app: "console-test", jobs, env, logger: silent }), seen };
}

/** Starts the dev server (with the console and the registry) and the app's receiver. */
export async function startConsoleApp(): Promise<ConsoleApp> {
  const env: Record<string, string> = {};
  const { registry, seen } = createTestRegistry(env);
  const server = createDevServer({ retryScale: 0.01, console: { jobs: registry, env } });
  const { url } = await server.listen();
  const handler = createHandler(registry);
  const app = await new Promise<{ close(): void; port: number }>((resolve) => {
    const s = serve(
      { fetch: (request) => handler(request), port: 0, hostname: "127.0.0.1" },
      (info: AddressInfo) => resolve({ port: info.port, close: () => s.close() }),
    );
  });
  const baseUrl = `http://127.0.0.1:${app.port}/api/jobs`;
  Object.assign(env, {
    QSTASH_URL: url,
    QSTASH_TOKEN: DEFAULT_DEV_USER.token,
    QSTASH_CURRENT_SIGNING_KEY: DEFAULT_DEV_USER.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: DEFAULT_DEV_USER.nextSigningKey,
    JOBSTASH_BASE_URL: baseUrl,
  });
  // As `jobstash dev` does on start: schedules, queues and flow-control keys from the code.
  await syncJobstash(registry, { env: "development", bindings: env });
  return {
    server,
    url,
    console: `${url}/console`,
    baseUrl,
    jobs: registry,
    seen,
    client: new Client({ baseUrl: url, token: DEFAULT_DEV_USER.token }),
    async close() {
      app.close();
      await server.close();
    },
  };
}

/**
 * The file's browser and app, started before its tests and stopped after them: one Chromium
 * per test file, as the files run in parallel.
 */
export function consoleAppPerFile(): { readonly browser: Browser; readonly app: ConsoleApp } {
  const ctx = {} as { browser: Browser; app: ConsoleApp };
  beforeAll(async () => {
    [ctx.browser, ctx.app] = await Promise.all([launchBrowser(), startConsoleApp()]);
  });
  afterAll(async () => {
    await ctx.browser?.close();
    await ctx.app?.close();
  });
  return ctx;
}

/** A fresh page (its own cookies) on a console page, once its live stream is connected. */
export async function openPage(
  browser: Browser,
  url: string,
  options: { colorScheme?: "light" | "dark" } = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: options.colorScheme,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(url);
  if (await page.locator("[data-live]").count())
    await page.locator("#live-status", { hasText: "Live" }).waitFor();
  return page;
}

/** Script errors a page hit (each test expects none). */
export function pageErrors(page: Page): string[] {
  return (page as Page & { errors?: string[] }).errors ?? [];
}

/** Polls `fn` until it returns a truthy value, or fails after `ms` (10 s: browsers run in parallel). */
export function eventually<T>(fn: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  return pollUntil(fn, ms);
}

/** `expect.poll` with room for a loaded machine (two cores, browsers in parallel). */
export function poll<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 10_000, interval: 50 });
}
