import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, rmdir, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { freePort, waitFor } from "../helpers/process.js";
import { jobstash, jobstashDone } from "./run.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * An existing app as a user has one before `jobstash init`: its files, and a node_modules
 * whose packages are links into this repository's (jobstash itself links to the repository,
 * so it resolves through its export map to dist/, as an installed copy does). `inRepo` puts
 * it under the repository (.test-apps/), for bundlers that refuse files outside their
 * workspace root (Turbopack); its node_modules then holds only jobstash.
 */
export async function scratchApp(
  files: Record<string, string | object>,
  options: { packages?: string[]; inRepo?: boolean } = {},
): Promise<{ dir: string; remove(): Promise<void> }> {
  let dir: string;
  if (options.inRepo) {
    await mkdir(join(ROOT, ".test-apps"), { recursive: true });
    dir = await mkdtemp(join(ROOT, ".test-apps", "app-"));
  } else {
    dir = await mkdtemp(join(tmpdir(), "jobstash-app-"));
  }
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(
      join(dir, path),
      typeof content === "string" ? content : `${JSON.stringify(content, null, 2)}\n`,
    );
  }
  await mkdir(join(dir, "node_modules/.bin"), { recursive: true });
  await symlink(ROOT, join(dir, "node_modules/jobstash"), "dir");
  for (const name of options.inRepo ? [] : (options.packages ?? [])) {
    await mkdir(dirname(join(dir, "node_modules", name)), { recursive: true });
    await symlink(join(ROOT, "node_modules", name), join(dir, "node_modules", name), "dir");
  }
  for (const bin of ["tsx", "tsc"]) {
    if (options.packages?.includes(bin === "tsc" ? "typescript" : bin)) {
      await symlink(join(ROOT, "node_modules/.bin", bin), join(dir, "node_modules/.bin", bin));
    }
  }
  const remove = async () => {
    await rm(dir, { recursive: true, force: true });
    // .test-apps/ goes too once no other test's app is in it.
    if (options.inRepo) await rmdir(join(ROOT, ".test-apps")).catch(() => undefined);
  };
  return { dir, remove };
}

/** A long-running command in its own process group, so that stopping it stops its children too. */
export function startGroup(command: string, options: { cwd: string; env: Record<string, string> }) {
  const child: ChildProcess = spawn("sh", ["-c", command], {
    cwd: options.cwd,
    env: {
      ...process.env,
      PATH: `${join(options.cwd, "node_modules/.bin")}:${process.env.PATH}`,
      ...options.env,
    },
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (c) => (output += c));
  child.stderr?.on("data", (c) => (output += c));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, "SIGTERM");
        } catch {}
        await exited;
      }
    },
  };
}

/**
 * What `jobstash init` promises, end to end: run it in `dir`, start `jobstash dev` and the app
 * (`start(env)`, with the settings init wrote, only the ports moved so tests can run side by
 * side), then trigger the example job through the CLI and see it delivered; `jobstash doctor`
 * finds nothing wrong. Returns init's output.
 */
export async function initAndDeliver(
  dir: string,
  start: (env: Record<string, string>, port: number) => Promise<{ output(): string; stop(): Promise<void> }>,
  envFile: string,
): Promise<string> {
  const init = await jobstashDone(["init"], { cwd: dir });
  expect(init.code, init.stderr).toBe(0);
  // The settings init wrote are jobstash dev's defaults...
  const written = await readFile(join(dir, envFile), "utf8");
  expect(written).toContain("QSTASH_URL=http://127.0.0.1:8080\n");
  const base = /^JOBSTASH_BASE_URL=http:\/\/localhost:(\d+)\/api\/jobs$/m.exec(written);
  expect(base).not.toBeNull();
  // ...and on a shared test machine only the two ports change, through the environment,
  // which wins over env files everywhere (Next.js, Node's --env-file, wrangler, the CLI).
  const dev = jobstash(["dev", "--port", "0", "--no-sync"], { cwd: dir });
  const [, qstashUrl] = await dev.waitFor(/^QSTASH_URL=(\S+)$/m);
  const port = await freePort();
  const env = {
    QSTASH_URL: qstashUrl!,
    JOBSTASH_BASE_URL: `http://localhost:${port}/api/jobs`,
    PORT: String(port),
  };
  const app = await start(env, port);
  try {
    await waitFor(
      `the app on port ${port}`,
      async () => {
        await fetch(`http://localhost:${port}/api/jobs/hello`, { method: "POST" });
        return true;
      },
      120_000,
    ).catch((error) => {
      throw new Error(`${error.message}\n${app.output()}`);
    });
    const r = await jobstashDone(["trigger", "hello", '{"name":"Ada"}', "--wait"], { cwd: dir, env });
    expect(r.code, `${r.stdout}${r.stderr}\n${app.output()}`).toBe(0);
    expect(r.stdout).toContain('delivered (200, attempt 1): {"greeting":"Hello, Ada!"}');
    const doctor = await jobstashDone(["doctor"], { cwd: dir, env });
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(doctor.stdout).toContain("✓ probe hello");
    await expect.poll(() => app.output()).toContain("hello, Ada (attempt 1)");
  } finally {
    await app.stop();
    await dev.stop();
  }
  return init.stdout;
}
