import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { run } from "../helpers/process.js";
import { requireBuiltCli } from "./run.js";
import { initAndDeliver, scratchApp, startGroup } from "./scratch-app.js";

requireBuiltCli();
const next = fileURLToPath(new URL("../../node_modules/next/dist/bin/next", import.meta.url));
// NODE_ENV as `next build` and `next start` have it for a user; vitest's "test" would make Next
// skip .env.local, as Next does under test.
const quiet = { NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" };

/**
 * `jobstash init` in a Next.js app as create-next-app makes it (App Router, TypeScript), then
 * one `next build` (TypeScript checked) and `next start`, delivering the example job through
 * `jobstash dev` with no edit. The app lives under the repository: Turbopack compiles nothing
 * outside its workspace root.
 */
describe("jobstash init, end to end", () => {
  it("a Next.js app: the route under app/, .env.local, next build, next start, a delivery", async () => {
    const app = await scratchApp(
      {
        "package.json": {
          name: "my-next-app",
          private: true,
          scripts: { dev: "next dev", build: "next build", start: "next start" },
          dependencies: {
            next: "16.0.0",
            react: "19.0.0",
            "react-dom": "19.0.0",
            jobstash: "^0.1.0",
            zod: "^4.0.0",
          },
          devDependencies: { typescript: "^5", "@types/node": "^20", "@types/react": "^19" },
        },
        "tsconfig.json": {
          compilerOptions: {
            target: "ES2017",
            lib: ["dom", "dom.iterable", "esnext"],
            allowJs: true,
            skipLibCheck: true,
            strict: true,
            noEmit: true,
            esModuleInterop: true,
            module: "esnext",
            moduleResolution: "bundler",
            resolveJsonModule: true,
            isolatedModules: true,
            jsx: "react-jsx",
            incremental: true,
            plugins: [{ name: "next" }],
            paths: { "@/*": ["./*"] },
          },
          include: ["next-env.d.ts", "**/*.ts", "**/*.tsx", ".next/types/**/*.ts"],
          exclude: ["node_modules"],
        },
        "app/layout.tsx": `export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
`,
        "app/page.tsx": "export default function Home() {\n  return <main>Hello</main>;\n}\n",
      },
      { inRepo: true },
    );
    try {
      const out = await initAndDeliver(
        app.dir,
        async (env, port) => {
          await run(process.execPath, [next, "build"], { cwd: app.dir, env: quiet });
          return startGroup(`"${process.execPath}" "${next}" start -p ${port}`, {
            cwd: app.dir,
            env: { ...env, ...quiet },
          });
        },
        ".env.local",
      );
      expect(out).toContain(
        "  created  app/api/jobs/[...job]/route.ts  the receiver: each job at /api/jobs/<jobId>",
      );
      expect(out).toContain("  created  .env.local");
      expect(await readFile(join(app.dir, "app/api/jobs/[...job]/route.ts"), "utf8")).toContain(
        'import { jobs } from "../../../../jobs";\n\nexport const { POST } = serve(jobs);',
      );
    } finally {
      await app.remove();
    }
  }, 300_000);
});
