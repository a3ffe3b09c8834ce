// The jobstash receiver, mounted as the README says.
import { serve } from "jobstash/next";
import { jobs } from "../../../../jobs";

export const { POST } = serve(jobs);
