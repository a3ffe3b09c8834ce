// App Router: one catch-all route receives every job at /api/jobs/<jobId>.
import { serve } from "jobstash/next";
import { jobs } from "../../../../../shared/jobs";

export const { POST } = serve(jobs);
