import { fileURLToPath } from "node:url";

// In this repository the example imports jobstash from ../../dist; an app that installed
// jobstash from npm needs none of this.
const root = fileURLToPath(new URL("../..", import.meta.url));

/** @type {import("next").NextConfig} */
export default {
  turbopack: { root },
  outputFileTracingRoot: root,
  typescript: { ignoreBuildErrors: true },
};
