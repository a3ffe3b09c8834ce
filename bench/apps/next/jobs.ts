// The adapter benchmark's one trivial job; configuration (base URL, signing keys) comes from
// the environment of `next start`, as in a deployment.
import { createJobstash, defineJob } from "jobstash";
import { z } from "zod";

const bench = defineJob({ id: "bench", input: z.object({ n: z.number() }), run: () => ({ ok: true }) });

export const jobs = createJobstash({ app: "bench", jobs: [bench] });
