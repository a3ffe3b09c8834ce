// The public types under the tsconfig `next build` writes for a new app, which has
// `"strict": false` (so no `strictNullChecks`): the README's examples in test/types-next/ must
// type the same there as under `"strict": true`. The config comes from Next's own generator,
// and jobstash resolves through its export map to dist/, as in an installed package.
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "./helpers/process.js";

const root = resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
const tsc = join(root, "node_modules/typescript/bin/tsc");

let app: string;

beforeAll(async () => {
  if (!existsSync(join(root, "dist/index.d.ts"))) {
    throw new Error("dist/ is missing: run `npm run build` first (`npm test` builds before vitest runs)");
  }
  app = await mkdtemp(join(tmpdir(), "jobstash-next-types-"));
  await cp(join(root, "test/types-next"), app, { recursive: true });
  // The app's dependencies: jobstash itself (its package.json and dist/), and what the fixture imports.
  await mkdir(join(app, "node_modules/@types"), { recursive: true });
  await symlink(root, join(app, "node_modules/jobstash"), "dir");
  for (const name of ["zod", "vitest", "@types/node"]) {
    await symlink(join(root, "node_modules", name), join(app, "node_modules", name), "dir");
  }

  // What `next build` does in an App Router project without a tsconfig.json.
  const { writeConfigurationDefaults } = require("next/dist/lib/typescript/writeConfigurationDefaults.js");
  const { version } = require("typescript/package.json");
  await writeConfigurationDefaults(version, join(app, "tsconfig.json"), true, true, ".next", false, false);
  const generated = JSON.parse(await readFile(join(app, "tsconfig.json"), "utf8"));
  const strict = { ...generated, compilerOptions: { ...generated.compilerOptions, strict: true } };
  await writeFile(join(app, "tsconfig.strict.json"), JSON.stringify(strict, null, 2));
}, 30_000);

afterAll(async () => {
  if (app) await rm(app, { recursive: true, force: true });
});

/** tsc's diagnostics for the app under one tsconfig, as lines ("" when it compiles). */
async function diagnostics(config: string): Promise<string> {
  return run(process.execPath, [tsc, "-p", config, "--pretty", "false"], { cwd: app }).catch(
    (error: Error) => error.message,
  );
}

describe("the README's examples in a Next.js app", () => {
  it("get a tsconfig without strictNullChecks from Next", async () => {
    const { compilerOptions } = JSON.parse(await readFile(join(app, "tsconfig.json"), "utf8"));
    expect(compilerOptions.strict).toBe(false);
    expect(compilerOptions).not.toHaveProperty("strictNullChecks");
  });

  it('type-check under that tsconfig ("strict": false)', async () => {
    expect(await diagnostics("tsconfig.json")).toBe("");
  }, 60_000);

  it('type-check the same with "strict": true', async () => {
    expect(await diagnostics("tsconfig.strict.json")).toBe("");
  }, 60_000);
});
