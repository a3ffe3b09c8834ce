import { defineConfig, type Options } from "tsup";

// Every public entry lives here; package.json "exports" mirrors it (checked by test/package.test.ts).
export const entries = {
  index: "src/index.ts",
  hono: "adapters/hono.ts",
  express: "adapters/express.ts",
  next: "adapters/next.ts",
  workers: "adapters/workers.ts",
  "dev-server": "src/dev-server/index.ts",
  sync: "src/sync/index.ts",
  testing: "src/testing/index.ts",
} as const;

const { "dev-server": devServer, ...receiver } = entries;

const library = {
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  target: "es2022",
  // Entries import each other through the public name, so the CJS build (which cannot split
  // chunks) never carries a second copy of the core and its error classes.
  external: [/^jobstash(\/|$)/],
} satisfies Options;

// No block cleans dist/: tsup builds the blocks in parallel, and a block's clean deletes what
// another has already written (`npm run build` empties dist/ before tsup runs).
export default defineConfig([
  {
    ...library,
    entry: receiver,
    // p-retry is ESM-only: a CJS `require("jobstash/sync")` would need require(esm), which Node
    // 20 only has from 20.19; bundled, it works on every Node 20.
    noExternal: ["p-retry", "is-network-error"],
  },
  {
    ...library,
    entry: { "dev-server": devServer },
    // hono is the app's (a peer dependency): jobstash/hono must build its sub-app with the
    // app's copy, since `app.route()` only takes a Hono of its own copy. The dev server is a Hono
    // app of its own and must not depend on which hono 4.x the app has, or whether it has one:
    // it carries its own, with its Node server.
    noExternal: [/^hono(\/|$)/, /^@hono\/node-server(\/|$)/],
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
