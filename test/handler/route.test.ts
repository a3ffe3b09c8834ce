import { describe, expect, it } from "vitest";
import { callbackUrl, jobUrl, route } from "../../src/protocol.js";

// route() scans the URL by hand on every delivery; these are the URLs it must read as the
// WHATWG parser would have (the job id is the last non-empty path segment).
describe("route", () => {
  it.each([
    ["https://app.example.com/api/jobs/greet", "greet", null],
    ["https://app.example.com/api/jobs/greet/", "greet", null],
    ["https://app.example.com/api/jobs/greet//", "greet", null],
    ["https://app.example.com/api/jobs//greet", "greet", null],
    ["https://app.example.com/greet", "greet", null],
    ["https://app.example.com/", "", null],
    ["https://app.example.com", "", null],
    ["https://app.example.com?callback=success", "", "success"],
    ["https://app.example.com?x=/a/b", "", null],
    ["https://app.example.com?x=//a/b", "", null],
    ["https://app.example.com/api/jobs/greet?callback=success", "greet", "success"],
    ["https://app.example.com/api/jobs/greet/?callback=failure&x=1", "greet", "failure"],
    ["https://app.example.com/api/jobs/greet?x=1&callback=fail%75re", "greet", "failure"],
    ["https://app.example.com/api/jobs/greet?x=/y/z", "greet", null],
    ["https://app.example.com/api/jobs/greet#callback=success", "greet", null],
    ["https://app.example.com/api/jobs/greet?callback=success#frag", "greet", "success"],
    ["https://app.example.com/api/jobs/greet#frag?callback=success", "greet", null],
    ["https://app.example.com/api/jobs/a%2Fb", "a%2Fb", null],
    ["http://127.0.0.1:3000/api/jobs/bench", "bench", null],
    ["/api/jobs/relative", "relative", null],
  ])("%s", (url, rawId, marker) => {
    expect(route(url)).toEqual({ rawId, marker });
  });

  // Trigger builds these URLs and the receiver reads them: one module, and they must agree.
  it("reads back the job and callback URLs trigger builds", () => {
    const base = "https://app.example.com/api/jobs";
    expect(route(jobUrl(base, "greet"))).toEqual({ rawId: "greet", marker: null });
    for (const marker of ["success", "failure"]) {
      expect(route(callbackUrl(base, "greet", marker))).toEqual({ rawId: "greet", marker });
    }
  });
});
