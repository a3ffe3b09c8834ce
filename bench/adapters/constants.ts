/** The public URL every receiver checks `sub` against; the load itself goes to 127.0.0.1. */
export const BASE_URL = "http://bench.local/api/jobs";
export const JOB_ID = "bench";
