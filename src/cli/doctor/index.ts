import type { AnyJobstash } from "jobstash";
import { DEFAULT_DEV_USER } from "../../dev-server/engine/users.js";
import { jobUrl } from "../../protocol.js";
import { statusOf } from "../../qstash.js";
import { defaultEnv, envNameProblems } from "../../sync/ownership.js";
import { baseUrlProblems } from "../../sync/url-policy.js";
import { signingKeys } from "../api.js";
import { from, OPS_OPTIONS, type Ops, openOps, opsHelp, qstashFailure } from "../ops.js";
import { printJson, styler } from "../output.js";
import { parseCommand } from "../shared.js";
import { explainProbe, probeBody, sendProbe } from "./probe.js";

const HELP = `Usage: jobstash doctor [jobId] [options]

Checks the setup and says what is wrong in words: the config file, which QStash the token
talks to and whether it is accepted, the signing keys (and whether they are the server's),
the base URL (https and no per-deployment host outside development), then sends each job (or
only [jobId]) a correctly signed probe and explains the answer.

The probe is a delivery signed as QStash signs one, with an input the job's schema rejects
on purpose: the receiver checks the signature and the URL first, so its answer (489
INVALID_PAYLOAD) proves what a real delivery needs, and the job itself never runs.

Options:
  -e, --env <name>         The environment to check against (default: $JOBSTASH_ENV or development)
      --allow-preview-url  Accept a per-deployment base URL in production (as sync does)
${opsHelp()}

Examples:
  jobstash doctor
  jobstash doctor send-welcome --env production --env-file .env.production

Exit codes: 0 no problem found (warnings allowed), 1 a problem found, 2 bad input (an unknown job).`;

/** One finding: ok, a warning, a problem, or a check that could not run. */
export interface Check {
  name: string;
  status: "ok" | "warn" | "fail" | "skip";
  message: string;
}

const LOCAL_HOST =
  /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|[^.]+\.local)$/i;

/** `jobstash doctor`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const { values, positionals } = parseCommand(
    "doctor",
    argv,
    { ...OPS_OPTIONS, env: { type: "string", short: "e" }, "allow-preview-url": { type: "boolean" } },
    { max: 1, usage: "[jobId]" },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const checks: Check[] = [];
  const add = (name: string, status: Check["status"], message: string) =>
    checks.push({ name, status, message });
  const ops = await openOps(values, { configError: (error) => add("config", "fail", error.message) });
  const registry = ops.registry;
  const [only] = positionals;
  if (only !== undefined && registry) ops.job(only);
  const env = values.env ?? defaultEnv(process.env);
  if (registry) {
    const ids = [...registry.jobs.keys()];
    add(
      "config",
      "ok",
      `app "${registry.app}", ${ids.length} job${ids.length === 1 ? "" : "s"}: ${ids.join(", ") || "none"}`,
    );
  }

  // Which QStash, and whether it takes the token.
  let serverKeys: { current: string; next: string } | undefined;
  let qstashUrl: string | undefined;
  try {
    const qstash = ops.qstash();
    qstashUrl = qstash.url;
    try {
      serverKeys = await signingKeys(qstash);
      const dev = serverKeys.current === DEV_KEY;
      const what = dev
        ? "a local dev server (jobstash dev)"
        : /(^|\.)upstash\.io$/.test(new URL(qstash.url).hostname)
          ? "Upstash QStash"
          : "a QStash";
      add("qstash", "ok", `${what} at ${qstash.url}${from(ops.sources, "QSTASH_URL")}`);
      add("token", "ok", `accepted${from(ops.sources, "QSTASH_TOKEN")}`);
    } catch (error) {
      const failure = qstashFailure(error, qstash, ops.sources);
      if (statusOf(error) === 0) add("qstash", "fail", failure.message);
      else {
        add("qstash", "ok", `${qstash.url}${from(ops.sources, "QSTASH_URL")}`);
        add("token", "fail", failure.message);
      }
    }
  } catch (error) {
    add("qstash", "fail", (error as Error).message);
  }

  // The keys the app verifies with, against the server's.
  let keys: { current: string; next: string } | undefined;
  try {
    keys = ops.config.signingKeys();
    const names = from(ops.sources, "QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY");
    if (!serverKeys) add("signing keys", "ok", `set${names}; the server's could not be read to compare`);
    else if (keys.current === serverKeys.current && keys.next === serverKeys.next) {
      add("signing keys", "ok", `set, and the same as the server's${names}`);
    } else if (keys.current === serverKeys.current || keys.next === serverKeys.current) {
      add(
        "signing keys",
        "warn",
        `deliveries verify, but the keys are not the server's current and next pair${names}: update them before QStash's next key rotation`,
      );
    } else {
      const dev = serverKeys.current === DEV_KEY;
      add(
        "signing keys",
        "fail",
        `they are not the server's${names}, so the app would refuse every delivery (401): ${
          dev
            ? `set QSTASH_CURRENT_SIGNING_KEY=${serverKeys.current} and QSTASH_NEXT_SIGNING_KEY=${serverKeys.next}`
            : "copy QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY from the Upstash console (QStash, Signing keys)"
        }`,
      );
    }
  } catch (error) {
    add("signing keys", "fail", `${(error as Error).message}; \`jobstash dev\` prints the local ones`);
  }

  // The base URL, by sync's rules for this environment, and reachable by this QStash.
  const policy = (url: string) =>
    registry ? baseUrlProblems(url, env, { allowPreviewUrl: values["allow-preview-url"] }) : [];
  const base = baseUrlCheck(ops, qstashUrl, policy, add);
  // What else would stop `jobstash sync`: the environment's name, then (once the name and the
  // base URL pass, as sync checks them in that order) each schedule.
  if (registry) {
    const passes = base !== undefined && policy(base).length === 0;
    for (const problem of await scheduleProblems(registry, env, passes, values["allow-preview-url"])) {
      add("schedules", "fail", problem);
    }
  }

  // The probes.
  if (!registry)
    add("probe", "skip", "needs the registry from jobstash.config.ts (`jobstash init` writes one)");
  else if (!base) add("probe", "skip", "needs JOBSTASH_BASE_URL");
  else if (!keys && !serverKeys) add("probe", "skip", "needs a signing key to sign with");
  else {
    const key = serverKeys?.current ?? keys!.current;
    const ids = only !== undefined ? [only] : [...registry.jobs.keys()];
    const verdicts = await Promise.all(
      ids.map(async (id) => {
        const url = jobUrl(base, id);
        const { body } = await probeBody(registry.jobs.get(id)!);
        return { id, url, verdict: explainProbe(await sendProbe(url, key, body), { url, jobId: id, base }) };
      }),
    );
    for (const { id, url, verdict } of verdicts)
      add(`probe ${id}`, verdict.ok ? "ok" : "fail", `${url}: ${verdict.message}`);
  }

  const problems = checks.filter((c) => c.status === "fail").length;
  if (values.json) {
    printJson({ ok: problems === 0, env, qstashUrl: qstashUrl ?? null, baseUrl: base ?? null, checks });
  } else {
    print(checks, env, registry?.app, problems);
  }
  return problems ? 1 : 0;
}

/** The default dev user's signing key: a server that has it is a local dev server. */
const DEV_KEY = DEFAULT_DEV_USER.currentSigningKey;

/** The problems sync would find with the environment's name and its schedules. */
async function scheduleProblems(
  registry: AnyJobstash,
  env: string,
  baseUrlPasses: boolean,
  allowPreviewUrl: boolean | undefined,
): Promise<string[]> {
  const problems = envNameProblems(env);
  if (problems.length || !baseUrlPasses) return problems;
  const { desiredState, SyncValidationError } = await import("jobstash/sync");
  try {
    await desiredState(registry, { env, allowPreviewUrl });
    return [];
  } catch (error) {
    if (error instanceof SyncValidationError) return [...error.problems];
    throw error;
  }
}

function baseUrlCheck(
  ops: Ops,
  qstashUrl: string | undefined,
  policy: (url: string) => string[],
  add: (name: string, status: Check["status"], message: string) => void,
): string | undefined {
  let base: string | undefined;
  try {
    base = ops.baseUrl();
  } catch (error) {
    add("base URL", "fail", (error as Error).message);
    return undefined;
  }
  const problems = base ? policy(base) : [];
  if (base && problems.length) {
    // https outside development, no per-deployment host in production: sync's own rules.
    for (const problem of problems) add("base URL", "fail", problem);
    return base;
  }
  if (!base) {
    add(
      "base URL",
      "fail",
      "JOBSTASH_BASE_URL is not set: set it to the public URL the receiver is mounted at (e.g. http://localhost:3000/api/jobs in development)",
    );
    return undefined;
  }
  const host = new URL(base).hostname;
  const qstashHost = qstashUrl ? new URL(qstashUrl).hostname : undefined;
  if (qstashHost && !LOCAL_HOST.test(qstashHost) && LOCAL_HOST.test(host)) {
    add(
      "base URL",
      "fail",
      `${base}${from(ops.sources, "JOBSTASH_BASE_URL")} is on this machine or its network, which QStash at ${qstashUrl} cannot reach: use \`jobstash dev\` locally, or a public URL (a tunnel in development)`,
    );
    return base;
  }
  add("base URL", "ok", `${base}${from(ops.sources, "JOBSTASH_BASE_URL")}`);
  return base;
}

function print(checks: Check[], env: string, app: string | undefined, problems: number): void {
  const style = styler();
  const mark = {
    ok: style("green", "✓"),
    warn: style("yellow", "!"),
    fail: style("red", "✗"),
    skip: style("dim", "-"),
  };
  const width = Math.max(...checks.map((c) => c.name.length));
  console.log(`jobstash doctor${app ? `: app "${app}"` : ""}, env ${env}`);
  for (const c of checks) console.log(`  ${mark[c.status]} ${c.name.padEnd(width)}  ${c.message}`);
  const warnings = checks.filter((c) => c.status === "warn").length;
  console.log(
    problems
      ? `\n${problems} problem${problems === 1 ? "" : "s"} found.`
      : `\nNo problems found${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}.`,
  );
}
