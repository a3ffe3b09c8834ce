import { defineConfig } from "tsup";

// Every public entry lives here; package.json "exports" mirrors it (checked by test/package.test.ts).
export const entries = {
  index: "src/index.ts",
  hono: "adapters/hono.ts",
  express: "adapters/express.ts",
  next: "adapters/next.ts",
  workers: "adapters/workers.ts",
  "dev-server": "src/dev-server/index.ts",
  sync: "src/sync/index.ts",
} as const;

export default defineConfig([
  {
    entry: entries,
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "es2022",
    // Entries import each other through the public name, so the CJS build (which cannot split
    // chunks) never carries a second copy of the core and its error classes.
    external: [/^jobstash(\/|$)/],
  },
  {
    entry: { "cli/index": "src/cli/index.ts" },
    format: ["esm"],
    target: "node20",
    platform: "node",
    external: [/^jobstash(\/|$)/],
    banner: { js: "#!/usr/bin/env node" },
  },
]);
