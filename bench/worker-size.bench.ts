// Bundle size of a Cloudflare worker serving the same four jobs three ways, built in one run:
// the jobstash example (examples/worker), the same by hand with @upstash/qstash's Receiver and
// Client, and @upstash/workflow. All use zod/mini. Bundled as wrangler bundles (esbuild,
// workerd/worker/browser conditions), minified, gzipped.
import { gzipSync } from "node:zlib";
import { bundleWorker, wranglerConfig } from "../test/helpers/worker.js";

const targets = [
  ["jobstash (examples/worker)", wranglerConfig().main],
  ["by hand: Receiver + Client", "bench/workers/hand-written.ts"],
  ["@upstash/workflow", "bench/workers/workflow.ts"],
] as const;

const sizes: { name: string; min: number; gz: number }[] = [];
for (const [name, entry] of targets) {
  const code = await bundleWorker(entry, { minify: true });
  sizes.push({ name, min: code.length, gz: gzipSync(code, { level: 9 }).length });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
console.log("worker bundle size (minified, gzip -9)\n");
for (const { name, min, gz } of sizes)
  console.log(`  ${name.padEnd(30)} ${kb(min).padStart(9)} min  ${kb(gz).padStart(8)} gz`);
const [ours, byHand, workflow] = sizes as [(typeof sizes)[0], (typeof sizes)[0], (typeof sizes)[0]];
const ratio = ours.gz / byHand.gz;
console.log(
  `\n  jobstash / by hand: ${ratio.toFixed(2)}x  (target <= 1.00: ${ratio <= 1 ? "PASS" : "FAIL"})`,
);
console.log(`  jobstash / @upstash/workflow: ${(ours.gz / workflow.gz).toFixed(2)}x`);
