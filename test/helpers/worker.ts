import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { parse } from "smol-toml";

const root = new URL("../../", import.meta.url);

export interface WranglerConfig {
  main: string;
  compatibility_date: string;
  compatibility_flags?: string[];
  vars?: Record<string, string>;
}

export function wranglerConfig(): WranglerConfig {
  return parse(readFileSync(new URL("wrangler.toml", root), "utf8")) as unknown as WranglerConfig;
}

/**
 * Bundle a worker as wrangler does (esbuild, ESM, the workerd/worker/browser conditions,
 * node:* left to the runtime). The tsconfig paths are ignored, so `jobstash` resolves through
 * the package's own export map to dist/, as it would from node_modules.
 */
export async function bundleWorker(entry: string, options: { minify?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [new URL(entry, root).pathname],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["node:*", "cloudflare:*"],
    tsconfigRaw: {},
    minify: options.minify ?? false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/**
 * Run a bundled worker in workerd with wrangler.toml's settings, on a real local port.
 * `port` fixes the port (default: a free one, known only once started); `onLog` receives the
 * worker's console output, one call per console call, instead of it going to this process's stdout.
 */
export async function startWorker(
  script: string,
  overrides: {
    vars?: Record<string, string>;
    nodejsCompat?: boolean;
    port?: number;
    onLog?: (entry: { level: string; message: string }) => void;
  } = {},
) {
  const config = wranglerConfig();
  const { onLog } = overrides;
  const flags = (config.compatibility_flags ?? []).filter(
    (flag) => overrides.nodejsCompat !== false || flag !== "nodejs_compat",
  );
  const mf = new Miniflare({
    // An explicit module list, as wrangler passes it: miniflare's automatic collection refuses
    // the computed `import()`s of @upstash/qstash's dev-server helper, which never run here.
    modules: [{ type: "ESModule", path: "worker.js", contents: script }],
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: flags,
    bindings: { ...config.vars, ...overrides.vars },
    host: "127.0.0.1",
    port: overrides.port ?? 0,
    // miniflare checks that the handler returns undefined.
    ...(onLog && { handleStructuredLogs: (entry: { level: string; message: string }) => void onLog(entry) }),
  });
  const url = await mf.ready;
  return { origin: url.origin, close: () => mf.dispose() };
}
