import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { tsconfigPaths: true },
  test: {
    include: ["test/**/*.test.ts"],
    typecheck: { include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    // Two cores: run files in parallel, but keep each file's tests sequential so a file's
    // servers and ports are its own.
    pool: "forks",
    testTimeout: 15_000,
    hookTimeout: 30_000,
  },
});
