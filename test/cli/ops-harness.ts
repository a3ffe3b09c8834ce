import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Client } from "@upstash/qstash";
import { type AnyJobstash, createHandler } from "jobstash";
import { type Clock, createDevServer, DEV_USERS, type DevServer } from "jobstash/dev-server";
import { afterAll, beforeAll } from "vitest";
import { formatEvent } from "../../src/cli/format-event.js";
import { jobstash, jobstashDone } from "./run.js";

/** The folder of the ops fixture (its jobstash.config.ts), where the CLI runs. */
export const OPS_APP = fileURLToPath(new URL("./fixtures/ops", import.meta.url));

/** A fetch handler on a real port: the receiver, or anything standing in for an app. */
export async function serveFetch(
  handler: (request: Request) => Promise<Response> | Response,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { port } = server.address() as AddressInfo;
    const request = new Request(`http://127.0.0.1:${port}${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks),
    });
    const response = await handler(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface OpsStack {
  qstash: DevServer;
  /** The dev server's URL. */
  url: string;
  client: Client;
  /** Where the receiver serves the jobs (JOBSTASH_BASE_URL). */
  baseUrl: string;
  /** What the CLI needs: the dev server, its user, the keys and the base URL. */
  env: Record<string, string>;
  /** `jobstash <args>` in the fixture folder, to its end. */
  cli(args: string[], env?: Record<string, string>): ReturnType<typeof jobstashDone>;
  /** `jobstash <args>`, running. */
  start(args: string[], env?: Record<string, string>): ReturnType<typeof jobstash>;
  close(): Promise<void>;
}

/**
 * `jobstash dev`'s server in this process on a real port, and the fixture's registry served
 * by the real receiver on another: the CLI, a child process, talks to both over HTTP as it
 * would to QStash and an app.
 */
export async function startOpsStack(
  registry: AnyJobstash,
  options: { retryScale?: number; clock?: Clock; devLog?: string[] } = {},
): Promise<OpsStack> {
  const user = DEV_USERS.defaultUser;
  const { devLog } = options;
  const qstash = createDevServer({
    retryScale: options.retryScale ?? 0.001,
    clock: options.clock,
    // What `jobstash dev` prints for each event, to compare with `jobstash logs`.
    logger: devLog && ((event) => devLog.push(formatEvent(event))),
  });
  const { url } = await qstash.listen({ port: 0, hostname: "127.0.0.1" });
  const handler = createHandler(registry);
  const bindings: Record<string, string> = {
    QSTASH_CURRENT_SIGNING_KEY: user.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: user.nextSigningKey,
  };
  const app = await serveFetch((request) => handler(request, bindings));
  const baseUrl = `${app.url}/api/jobs`;
  bindings.JOBSTASH_BASE_URL = baseUrl;
  const env = {
    QSTASH_URL: url,
    QSTASH_TOKEN: user.token,
    QSTASH_CURRENT_SIGNING_KEY: user.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: user.nextSigningKey,
    JOBSTASH_BASE_URL: baseUrl,
  };
  return {
    qstash,
    url,
    client: new Client({ baseUrl: url, token: user.token }),
    baseUrl,
    env,
    cli: (args, extra = {}) => jobstashDone(args, { cwd: OPS_APP, env: { ...env, ...extra } }),
    start: (args, extra = {}) => jobstash(args, { cwd: OPS_APP, env: { ...env, ...extra } }),
    close: async () => {
      await app.close();
      await qstash.close();
    },
  };
}

/** One stack for a test file: started before its tests, closed after. */
export function opsStackForFile(
  registry: AnyJobstash,
  options?: Parameters<typeof startOpsStack>[1],
): OpsStack {
  const stack = {} as OpsStack;
  beforeAll(async () => {
    Object.assign(stack, await startOpsStack(registry, options));
  });
  afterAll(() => stack.close?.());
  return stack;
}
