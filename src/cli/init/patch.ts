import type { App, PackageJson } from "./detect.js";
import { importPath, type Layout, MOUNT } from "./templates.js";

/**
 * The changes `jobstash init` makes inside existing files, each small and said out loud: the
 * two lines that mount the receiver in a Hono, Express or Workers entry (those frameworks have
 * no file-based routes), `--env-file=.env` on a Node dev script, and the env lines appended to
 * an env file. Each returns undefined when it cannot tell where to make its change safely;
 * the caller then prints what to add by hand.
 */

/** The entry with the receiver's import and mount added, and the line mounting it. */
export function mountInEntry(
  app: App,
  files: Layout,
  source: string,
): { text: string; mount: string; importLine: string } | undefined {
  const lines = source.split("\n");
  const path = importPath(app, app.entry!, files.routeFile);
  // In the file's own style: the quotes it uses most, and semicolons only if it uses them.
  const singles = source.match(/(?<![\w"`])'/g)?.length ?? 0;
  const doubles = source.match(/(?<![\w'`])"/g)?.length ?? 0;
  const q = singles > doubles ? "'" : '"';
  const semi = /;\s*$/m.test(source) ? ";" : "";
  const importLine = app.esm
    ? `import { jobsRoute } from ${q}${path}${q}${semi}`
    : `const { jobsRoute } = require(${q}${path}${q})${semi}`;
  let at: number | undefined;
  let mount: string;
  if (app.framework === "workers") {
    // The Worker's fetch(request, env, ctx): jobs' paths go to the receiver first.
    const i = lines.findIndex((l) => /\bfetch\s*\(.*\)[^{]*\{\s*$/.test(l));
    if (i < 0) return undefined;
    const params = /\bfetch\s*\(([^)]*)\)/
      .exec(lines[i]!)![1]!
      .split(",")
      .map((p) => p.trim().split(/[\s:=?]/)[0]!)
      .filter(Boolean);
    if (!params[0]) return undefined;
    // The indentation of the function's body (its first line), else two spaces more than fetch's.
    const body = lines.slice(i + 1).find((l) => l.trim());
    const indent = body ? /^\s*/.exec(body)![0] : `${/^\s*/.exec(lines[i]!)![0]}  `;
    mount = `if (new URL(${params[0]}.url).pathname.startsWith(${q}${MOUNT}/${q})) return jobsRoute(${params.slice(0, 3).join(", ")})${semi}`;
    lines.splice(i + 1, 0, `${indent}${mount} // jobstash: each job at ${MOUNT}/<jobId>`);
    at = i;
  } else {
    const creates =
      app.framework === "hono" ? /\b(\w+)\s*=\s*new\s+Hono\b/ : /\b(\w+)\s*=\s*express\s*\(\s*\)/;
    const i = lines.findIndex((l) => creates.test(l));
    if (i < 0) return undefined;
    const name = creates.exec(lines[i]!)![1]!;
    const end = statementEnd(lines, i);
    if (end === undefined) return undefined;
    const indent = /^\s*/.exec(lines[i]!)![0];
    mount =
      app.framework === "hono"
        ? `${name}.route(${q}${MOUNT}${q}, jobsRoute)${semi}`
        : `${name}.use(${q}${MOUNT}${q}, jobsRoute)${semi}`;
    const why =
      app.framework === "express"
        ? "each job at /api/jobs/<jobId>; before any body parser"
        : "each job at /api/jobs/<jobId>";
    lines.splice(end + 1, 0, `${indent}${mount} // jobstash: ${why}`);
    at = i;
  }
  const last = lastImport(lines, at, app.esm);
  lines.splice(last + 1, 0, importLine);
  return { text: lines.join("\n"), mount, importLine };
}

/**
 * The line a statement starting on line `start` ends on: brackets closed, and the next line
 * does not go on with it (a chained `.get(...)`).
 */
function statementEnd(lines: string[], start: number): number | undefined {
  let depth = 0;
  for (let i = start; i < Math.min(lines.length, start + 200); i++) {
    for (const ch of lines[i]!.replace(/=>/g, "")) {
      if (ch === "(" || ch === "<" || ch === "{" || ch === "[") depth++;
      if (ch === ")" || ch === ">" || ch === "}" || ch === "]") depth--;
    }
    if (depth <= 0 && !/^\s*[.?]/.test(lines[i + 1] ?? "")) return i;
  }
  return undefined;
}

/** The index of the last line of the imports (or requires) above `before`; -1 for none (after a shebang or "use strict"). */
function lastImport(lines: string[], before: number, esm: boolean): number {
  let last = -1;
  let inside = false;
  for (let i = 0; i < before; i++) {
    const line = lines[i]!;
    if (esm) {
      if (/^import\b/.test(line)) inside = true;
      if (inside && (/\bfrom\s+["'][^"']+["']/.test(line) || /^import\s+["']/.test(line))) {
        last = i;
        inside = false;
      }
    } else if (/^(const|let|var)\s.*=\s*require\(["'][^"']+["']\)/.test(line) || /^require\(/.test(line)) {
      last = i;
    }
  }
  if (last === -1) {
    if (lines[0]?.startsWith("#!")) last = 0;
    if (/^["']use strict["']/.test(lines[last + 1] ?? "")) last++;
  }
  return last;
}

/**
 * A Node dev script that loads `.env` (Node's own `--env-file`, which tsx passes on), unless
 * the app loads it already (dotenv, or --env-file). Undefined when there is nothing to do or
 * the script is not one to change safely.
 */
export function devScriptWithEnv(pkg: PackageJson, entrySource: string | undefined): string | undefined {
  const script = pkg.scripts?.dev;
  if (!script || /--env-file/.test(script) || /dotenv/.test(entrySource ?? "")) return undefined;
  const runner = /^(\s*(?:tsx(?:\s+watch)?|node(?:\s+--watch)?)\s)/.exec(script);
  if (!runner) return undefined;
  return `${runner[1]}--env-file=.env ${script.slice(runner[1]!.length)}`;
}

/**
 * An env file's text with the `wanted` variables it lacks appended (never changing a line it
 * has). `kept` are the ones it sets to another value, left as they are.
 */
export function appendEnv(
  existing: string | undefined,
  wanted: [string, string][],
  header: string,
): { text: string; added: string[]; kept: string[] } {
  const present = new Map<string, string>();
  for (const line of (existing ?? "").split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (match) present.set(match[1]!, match[2]!.trim().replace(/^["']|["']$/g, ""));
  }
  const missing = wanted.filter(([name]) => !present.has(name));
  const kept = wanted
    .filter(([name, value]) => present.has(name) && present.get(name) !== value)
    .map(([n]) => n);
  if (!missing.length) return { text: existing ?? "", added: [], kept };
  const lead = existing === undefined || existing === "" ? "" : existing.endsWith("\n") ? "\n" : "\n\n";
  const block = [header, ...missing.map(([name, value]) => `${name}=${value}`)].join("\n");
  return { text: `${existing ?? ""}${lead}${block}\n`, added: missing.map(([n]) => n), kept };
}
