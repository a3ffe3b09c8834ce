// Adds lockfile entries for optional per-platform binaries the registry did not serve.
//
// Why: the registry this project installs from mirrors only some platforms' binaries
// (@biomejs/cli-*, @next/swc-*, @rollup/rollup-* for darwin, win32, musl, ...). npm then
// leaves those optional packages out of package-lock.json, and `npm ci` rejects the lock as
// out of sync ("Missing: @biomejs/cli-darwin-x64@ from lock file"). An entry that names the
// package's platform is what a full registry would have written: `npm ci` validates it and
// skips the package on any other platform without fetching it.
//
// Run after changing dependencies: `npm run deps:lock`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;

const OS = [
  "android",
  "darwin",
  "freebsd",
  "linux",
  "win32",
  "openharmony",
  "openbsd",
  "netbsd",
  "sunos",
  "aix",
];
const CPU = {
  arm64: "arm64",
  x64: "x64",
  arm: "arm",
  ia32: "ia32",
  loong64: "loong64",
  ppc64: "ppc64",
  riscv64: "riscv64",
  s390x: "s390x",
};

/** os/cpu/libc from a binary package's name, e.g. rollup-linux-arm-musleabihf. */
function platform(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.find((part) => OS.includes(part));
  const cpu = parts.map((part) => CPU[part]).find(Boolean);
  if (!os || !cpu) return undefined;
  const libc = parts.some((part) => part.startsWith("musl"))
    ? ["musl"]
    : os === "linux"
      ? ["glibc"]
      : undefined;
  return { os: [os], cpu: [cpu], ...(libc && { libc }) };
}

/** Where npm would look for `name` when resolving it from the package at `from`. */
function resolvable(from, name) {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/node_modules/")))) {
    if (packages[`${dir ? `${dir}/` : ""}node_modules/${name}`]) return true;
    if (!dir) return false;
  }
}

let added = 0;
for (const [from, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = platform(name);
    if (!target || resolvable(from, name)) continue;
    const key = packages[`node_modules/${name}`] ? `${from}/node_modules/${name}` : `node_modules/${name}`;
    packages[key] = {
      version: spec.replace(/^[\^~=]/, ""),
      ...(entry.dev && { dev: true }),
      optional: true,
      ...target,
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);
