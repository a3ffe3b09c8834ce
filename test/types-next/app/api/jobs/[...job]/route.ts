// The README's App Router mount.
import { serve } from "jobstash/next";
import { jobs } from "../../../../jobs";

export const { POST } = serve(jobs);
