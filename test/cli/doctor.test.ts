import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as honoNodeServe } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { type AnyJob, createJobstash } from "jobstash";
import { DEV_USERS } from "jobstash/dev-server";
import { serve as serveExpress } from "jobstash/express";
import { serve as serveHono } from "jobstash/hono";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/process.js";
import registry, { bounce, flaky, greet, nightly, runs } from "./fixtures/ops/jobstash.config.js";
import { opsStackForFile } from "./ops-harness.js";
import { requireBuiltCli } from "./run.js";

requireBuiltCli();
const stack = opsStackForFile(registry);
const user = DEV_USERS.defaultUser;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface AppOptions {
  /** Where the app mounts the receiver. @default "/api/jobs" */
  mount?: string;
  /** The base URL the app was given; @default its own origin + mount */
  baseUrl?: (origin: string) => string;
  keys?: { current: string; next: string } | null;
  jobs?: AnyJob[];
  /** Express with express.json() in front of the receiver. */
  bodyParser?: boolean;
}

/** An app as users deploy one: Hono (or Express) on a Node server, settings of its own. */
async function startApp(options: AppOptions = {}): Promise<{ origin: string; close(): Promise<void> }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const mount = options.mount ?? "/api/jobs";
  const jobs = createJobstash({
    app: "ops-test",
    jobs: options.jobs ?? [greet, bounce, flaky, nightly],
    baseUrl: options.baseUrl ? options.baseUrl(origin) : `${origin}${mount}`,
    ...(options.keys !== null && {
      signingKeys: options.keys ?? { current: user.currentSigningKey, next: user.nextSigningKey },
    }),
    env: {},
    logger: quiet,
  });
  let server: Server;
  if (options.bodyParser) {
    const app = express();
    app.use(express.json());
    app.use(mount, serveExpress(jobs));
    server = app.listen(port, "127.0.0.1");
  } else {
    server = honoNodeServe({
      fetch: new Hono().route(mount, serveHono(jobs)).fetch,
      port,
      hostname: "127.0.0.1",
    }) as Server;
  }
  await new Promise<void>((resolve) =>
    server.listening ? resolve() : server.once("listening", () => resolve()),
  );
  expect((server.address() as AddressInfo).port).toBe(port);
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Check {
  name: string;
  status: string;
  message: string;
}

async function doctor(args: string[], env: Record<string, string> = {}) {
  const r = await stack.cli(["doctor", ...args, "--json"], env);
  const out = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  return { code: r.code, ...out, check: (name: string) => out.checks.find((c) => c.name === name) };
}

describe("jobstash doctor", () => {
  it("a working setup: every check passes, and the probes run no job", async () => {
    const ran = runs.length;
    const dlqBefore = (await stack.client.dlq.listMessages()).messages.length;
    const r = await stack.cli(["doctor"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      'jobstash doctor: app "ops-test", env development',
      '  ✓ config         app "ops-test", 4 jobs: greet, bounce, flaky, nightly',
      `  ✓ qstash         a local dev server (jobstash dev) at ${stack.url}`,
      "  ✓ token          accepted",
      "  ✓ signing keys   set, and the same as the server's",
      `  ✓ base URL       ${stack.baseUrl}`,
      ...["greet", "bounce", "flaky", "nightly"].map(
        (id) =>
          `  ✓ probe ${id.padEnd(8)} ${stack.baseUrl}/${id}: the receiver checked the signature and the URL, found the job, and refused the probe's deliberately invalid input (489 INVALID_PAYLOAD): deliveries will reach it. The job did not run`,
      ),
      "",
      "No problems found.",
      "",
    ]);
    expect(runs.length).toBe(ran);
    expect((await stack.client.dlq.listMessages()).messages.length).toBe(dlqBefore);
  });

  it("a wrong mount path (404) and nothing listening: said in words, exit 1", async () => {
    const app = await startApp({ mount: "/jobs", baseUrl: (origin) => `${origin}/api/jobs` });
    try {
      const r = await doctor(["greet"], { JOBSTASH_BASE_URL: `${app.origin}/api/jobs` });
      expect(r.code).toBe(1);
      expect(r.check("probe greet")).toEqual({
        name: "probe greet",
        status: "fail",
        message: expect.stringMatching(
          /: 404 at \/api\/jobs\/greet: wrong mount path\. The receiver must answer <base URL>\/<jobId>, so mount it at \/api\/jobs .*or set JOBSTASH_BASE_URL to where it is mounted$/,
        ),
      });
    } finally {
      await app.close();
    }
    const closed = `http://127.0.0.1:${await freePort()}/api/jobs`;
    const refused = await doctor(["greet"], { JOBSTASH_BASE_URL: closed });
    expect(refused.check("probe greet")?.message).toBe(
      `${closed}/greet: nothing is listening on ${new URL(closed).host} (connection refused): start the app (e.g. \`npm run dev\`), or set JOBSTASH_BASE_URL to where it runs`,
    );
  });

  it("the app refusing the signature: its keys, its base URL; each with the receiver's reason", async () => {
    const otherKeys = await startApp({ keys: { current: "sig_notTheServers1", next: "sig_notTheServers2" } });
    const otherBase = await startApp({ baseUrl: () => "https://jobs.example.com/api/jobs" });
    try {
      const keys = await doctor(["greet"], { JOBSTASH_BASE_URL: `${otherKeys.origin}/api/jobs` });
      expect(keys.check("probe greet")?.message).toMatch(
        /: the app refused the signature \(401: signature does not match the current or the next signing key; .*\)\. The app's QSTASH_CURRENT_SIGNING_KEY \/ QSTASH_NEXT_SIGNING_KEY differ from QStash's/,
      );
      const base = await doctor(["greet"], { JOBSTASH_BASE_URL: `${otherBase.origin}/api/jobs` });
      expect(base.check("probe greet")?.message).toMatch(
        new RegExp(
          `the app refused the signature for its URL \\(401: signature is for another URL: got ${otherBase.origin}/api/jobs/greet, expected https://jobs\\.example\\.com/api/jobs/greet.*\\)\\. The app's JOBSTASH_BASE_URL differs from this one`,
        ),
      );
    } finally {
      await otherKeys.close();
      await otherBase.close();
    }
  });

  it("a body parser in front of the receiver, a setting missing on the app's side, a job it lacks", async () => {
    const parsed = await startApp({ bodyParser: true });
    const noKeys = await startApp({ keys: null });
    const older = await startApp({ jobs: [greet] });
    try {
      const body = await doctor(["greet"], { JOBSTASH_BASE_URL: `${parsed.origin}/api/jobs` });
      expect(body.check("probe greet")?.message).toMatch(
        /: a body parser consumed the request body before jobstash got it \(500: .*\)\. Express: mount the receiver before express\.json\(\)/,
      );
      const env = await doctor(["greet"], { JOBSTASH_BASE_URL: `${noKeys.origin}/api/jobs` });
      expect(env.check("probe greet")?.message).toMatch(
        /: the app is missing a setting on its side \(500: no signing keys to verify QStash deliveries: set QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY.*\): set it where the app runs/,
      );
      const lacks = await doctor(["bounce"], { JOBSTASH_BASE_URL: `${older.origin}/api/jobs` });
      expect(lacks.check("probe bounce")?.message).toMatch(
        /: the app answering there has no job "bounce" \(no job "bounce" here; known jobs: greet\): deploy the code that defines it/,
      );
    } finally {
      await parsed.close();
      await noKeys.close();
      await older.close();
    }
  });

  it("the setup itself: a refused token, keys that are not the server's, a dev token aimed at Upstash, http in production", async () => {
    const token = await doctor(["greet"], { QSTASH_TOKEN: "not-a-token" });
    expect(token.check("token")).toMatchObject({
      status: "fail",
      message: expect.stringContaining(`QStash at ${stack.url} refused the token (401`),
    });
    const keys = await doctor(["greet"], {
      QSTASH_CURRENT_SIGNING_KEY: "sig_wrong",
      QSTASH_NEXT_SIGNING_KEY: "sig_wrong2",
    });
    expect(keys.check("signing keys")).toEqual({
      name: "signing keys",
      status: "fail",
      message: `they are not the server's, so the app would refuse every delivery (401): set QSTASH_CURRENT_SIGNING_KEY=${user.currentSigningKey} and QSTASH_NEXT_SIGNING_KEY=${user.nextSigningKey}`,
    });
    const upstash = await doctor(["greet"], { QSTASH_URL: "https://qstash.upstash.io" });
    expect(upstash.check("qstash")).toMatchObject({
      status: "fail",
      message: expect.stringMatching(
        /^QSTASH_TOKEN is a token of the local dev server, but QSTASH_URL is https:\/\/qstash\.upstash\.io, Upstash's QStash/,
      ),
    });
    const production = await doctor(["greet", "--env", "production"]);
    expect(production.code).toBe(1);
    expect(production.check("base URL")).toMatchObject({
      status: "fail",
      message: expect.stringMatching(
        /^JOBSTASH_BASE_URL http:\/\/127\.0\.0\.1:\d+\/api\/jobs is not https; QStash delivers production jobs to a public https URL/,
      ),
    });
  });

  it("bad input: an unknown job is exit 2", async () => {
    const r = await stack.cli(["doctor", "gret"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^jobstash doctor: unknown job "gret"; did you mean "greet"\?/);
  });
});
