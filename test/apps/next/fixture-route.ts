// Test app for the conformance suite: each route has its own fixture (Next bundles each
// route separately), and answers PUT with what its jobs saw (`?reset` clears it).
import { serve } from "jobstash/next";
import { createFixture } from "../../helpers/fixture";

export function fixtureRoute() {
  const { jobs, seen } = createFixture();
  const handler = serve(jobs);
  const report = (url: string) => {
    if (new URL(url, "http://x").searchParams.has("reset")) {
      for (const list of Object.values(seen)) list.length = 0;
    }
    return seen;
  };
  return { handler, report };
}
