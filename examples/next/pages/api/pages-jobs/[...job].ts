// Pages Router: the same jobs at /api/pages-jobs/<jobId> (set JOBSTASH_BASE_URL to match).
import { serve } from "jobstash/next";
import { jobs } from "../../../../shared/jobs";

export default serve(jobs);

// QStash signs the raw bytes: Next.js must not parse the body first.
export const config = { api: { bodyParser: false } };
