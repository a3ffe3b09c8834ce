import { createHandler, createJobstash, defineJob } from "jobstash";
import { DEV_USERS } from "jobstash/dev-server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { explainProbe, probeBody, sendProbe } from "../../src/cli/doctor/probe.js";
import { serveFetch } from "./ops-harness.js";

const user = DEV_USERS.defaultUser;
const job = (id: string, input: z.ZodType) => defineJob({ id, input, run: () => ({ ran: id }) });

describe("the doctor's probe", () => {
  it("is a body each job's schema rejects: JSON where one exists, else not JSON", async () => {
    const cases: [z.ZodType, string][] = [
      [z.object({ email: z.string() }), '{"jobstashDoctorProbe":"not an input of this job"}'],
      [z.object({ note: z.string().optional() }), "[]"],
      [z.record(z.string(), z.string()), "[]"],
      [z.array(z.number()), '{"jobstashDoctorProbe":"not an input of this job"}'],
      [
        z.union([z.array(z.unknown()), z.object({}).passthrough()]),
        '"jobstash doctor probe: not an input of this job"',
      ],
      [z.union([z.array(z.unknown()), z.object({}).passthrough(), z.string()]), "null"],
    ];
    for (const [schema, body] of cases) expect((await probeBody(job("x", schema))).body).toBe(body);
    expect(await probeBody(job("x", z.unknown()))).toEqual({
      body: "jobstash doctor probe (not JSON, on purpose)",
      json: false,
    });
  });

  it("reaches the receiver's schema check for every job, and no job runs", async () => {
    const ran: string[] = [];
    const jobs = [
      defineJob({ id: "strict", input: z.object({ a: z.string() }), run: () => void ran.push("strict") }),
      defineJob({ id: "anything", input: z.unknown(), run: () => void ran.push("anything") }),
    ];
    const registry = createJobstash({
      app: "probe",
      jobs,
      signingKeys: { current: user.currentSigningKey },
      env: {},
    });
    const handler = createHandler(registry);
    let base = "";
    const app = await serveFetch((request) => handler(request, { JOBSTASH_BASE_URL: base }));
    base = `${app.url}/api/jobs`;
    try {
      for (const j of jobs) {
        const url = `${base}/${j.id}`;
        const result = await sendProbe(url, user.currentSigningKey, (await probeBody(j)).body);
        expect(result).toMatchObject({ kind: "answer", status: 489 });
        expect(explainProbe(result, { url, jobId: j.id, base }).ok).toBe(true);
      }
      expect(ran).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it("explains answers that do not come from the receiver", () => {
    const where = {
      url: "https://app.example.com/api/jobs/x",
      jobId: "x",
      base: "https://app.example.com/api/jobs",
    };
    const answer = (status: number, body = "", headers: Record<string, string> = {}) =>
      explainProbe({ kind: "answer", status, body, headers: new Headers(headers) }, where).message;
    expect(answer(308, "", { location: "https://www.example.com/api/jobs/x" })).toBe(
      "308 redirect to https://www.example.com/api/jobs/x: QStash does not follow redirects. Set JOBSTASH_BASE_URL to the final URL",
    );
    expect(answer(403, "<html><body>Authentication Required</body></html>")).toMatch(
      /^403 from something in front of the receiver, not jobstash \(Authentication Required\): an auth middleware or a deployment protection/,
    );
    expect(answer(405)).toMatch(/^405 at \/api\/jobs\/x: something answers there, but not to POST/);
    expect(answer(200, "<html></html>", { "content-type": "text/html" })).toMatch(
      /HTML page: something other than the jobstash receiver/,
    );
    expect(answer(502, "Bad Gateway")).toMatch(/^502 from the app before jobstash answered \(Bad Gateway\)/);
    expect(
      explainProbe({ kind: "no-answer", code: "TIMEOUT", message: "no answer within 10 s" }, where).message,
    ).toBe(
      "app.example.com accepted the connection but gave no answer within 10 s: is the app stuck, or something in front of it?",
    );
    expect(
      explainProbe({ kind: "no-answer", code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND" }, where).message,
    ).toBe("the host app.example.com does not resolve (ENOTFOUND): check JOBSTASH_BASE_URL");
  });
});
