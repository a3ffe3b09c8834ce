import type { AnyJob } from "jobstash";
import { signDelivery } from "../../dev-server/engine/signing.js";

/**
 * The probe `jobstash doctor` sends to a job's URL: a delivery signed exactly as QStash signs
 * one, whose body the job's schema rejects on purpose. The receiver checks the signature and
 * the URL before it parses the body, so its answer, `489 INVALID_PAYLOAD`, proves the whole
 * path a real delivery takes (the route, the keys, the base URL, the raw body) up to the
 * job's code, which never runs: the receiver refuses an input that fails the schema before
 * calling `run`, and a 489 answered to a request sent directly (not through QStash) puts
 * nothing in any DLQ.
 */

/**
 * Inputs tried in turn; the first the job's schema rejects is sent. Objects and arrays first:
 * what a body parser in front of the receiver accepts too, so it acts as on a real delivery.
 */
const CANDIDATES: unknown[] = [
  { jobstashDoctorProbe: "not an input of this job" },
  [],
  "jobstash doctor probe: not an input of this job",
  null,
  -0.5,
];

/** Sent when the schema accepts every candidate (z.unknown()): not JSON, refused before validation. */
const NOT_JSON = "jobstash doctor probe (not JSON, on purpose)";

/** A body the job's schema rejects, and whether it is JSON (else the receiver's INVALID_JSON answers it). */
export async function probeBody(job: AnyJob): Promise<{ body: string; json: boolean }> {
  for (const candidate of CANDIDATES) {
    const result = await job.input["~standard"].validate(candidate);
    if (result.issues) return { body: JSON.stringify(candidate), json: true };
  }
  return { body: NOT_JSON, json: false };
}

/** What came back: an answer, or why none did. */
export type ProbeResult =
  | { kind: "answer"; status: number; headers: Headers; body: string }
  | { kind: "no-answer"; code?: string; message: string };

/** How long the app may take to answer a probe. */
const PROBE_TIMEOUT_MS = 10_000;

/** POST the signed probe to `url`; never throws. Redirects are not followed (QStash does not follow them either). */
export async function sendProbe(url: string, key: string, body: string): Promise<ProbeResult> {
  const signature = signDelivery(key, { sub: url, iat: Math.floor(Date.now() / 1000), body });
  try {
    const response = await fetch(url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      headers: {
        "content-type": "application/json",
        "upstash-signature": signature,
        "upstash-message-id": "msg_jobstash_doctor_probe",
        "upstash-retried": "0",
        "user-agent": "jobstash doctor",
      },
      body,
    });
    return {
      kind: "answer",
      status: response.status,
      headers: response.headers,
      body: await response.text(),
    };
  } catch (error) {
    const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError") {
      return { kind: "no-answer", code: "TIMEOUT", message: `no answer within ${PROBE_TIMEOUT_MS / 1000} s` };
    }
    return {
      kind: "no-answer",
      code: err.cause?.code,
      message: err.cause?.message ?? err.message ?? String(error),
    };
  }
}

/** A verdict on a probe's answer, in words. */
export interface Verdict {
  ok: boolean;
  message: string;
}

/** The receiver's JSON error (`{"error":{"code","message"}}`), if that is what answered. */
function receiverError(body: string): { code: string; message: string } | undefined {
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } })?.error;
    if (typeof error?.code === "string" && typeof error.message === "string") {
      return { code: error.code, message: error.message };
    }
  } catch {}
  return undefined;
}

function excerpt(body: string): string {
  const text = body
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > 120 ? `${text.slice(0, 119)}…` : text || "(empty body)";
}

/**
 * What an answer to the probe means, and what to do about it. `url` is the job's URL,
 * `jobId` its id, `ours` the base URL the probe was signed for.
 */
export function explainProbe(
  result: ProbeResult,
  where: { url: string; jobId: string; base: string },
): Verdict {
  const { host, pathname } = new URL(where.url);
  if (result.kind === "no-answer") {
    switch (result.code) {
      case "ECONNREFUSED":
        return {
          ok: false,
          message: `nothing is listening on ${host} (connection refused): start the app (e.g. \`npm run dev\`), or set JOBSTASH_BASE_URL to where it runs`,
        };
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return {
          ok: false,
          message: `the host ${new URL(where.url).hostname} does not resolve (${result.code}): check JOBSTASH_BASE_URL`,
        };
      case "TIMEOUT":
        return {
          ok: false,
          message: `${host} accepted the connection but gave ${result.message}: is the app stuck, or something in front of it?`,
        };
      default:
        return { ok: false, message: `could not reach ${host}: ${result.message}` };
    }
  }
  const { status, body } = result;
  const error = receiverError(body);
  if (error) {
    switch (error.code) {
      case "INVALID_PAYLOAD":
      case "INVALID_JSON":
        return {
          ok: true,
          message: `the receiver checked the signature and the URL, found the job, and refused the probe's deliberately invalid input (${status} ${error.code}): deliveries will reach it. The job did not run`,
        };
      case "UNKNOWN_JOB":
        return {
          ok: false,
          message: `the app answering there has no job "${where.jobId}" (${error.message}): deploy the code that defines it, or check that JOBSTASH_BASE_URL points at this app (is another app listening on ${host}?)`,
        };
      case "URL_MISMATCH":
        return {
          ok: false,
          message: `the app refused the signature for its URL (401: ${error.message}). The app's JOBSTASH_BASE_URL differs from this one (${where.base}): set the same public URL in both`,
        };
      case "UNAUTHORIZED":
        return {
          ok: false,
          message: `the app refused the signature (401: ${error.message})${unauthorizedHint(error.message)}`,
        };
      case "CONFIG":
        return /already read|body parser/i.test(error.message)
          ? {
              ok: false,
              message: `a body parser consumed the request body before jobstash got it (${status}: ${error.message}). Express: mount the receiver before express.json(); Next.js Pages Router: export const config = { api: { bodyParser: false } }`,
            }
          : {
              ok: false,
              message: `the app is missing a setting on its side (${status}: ${error.message}): set it where the app runs (its env file, or the host's environment variables) and restart or redeploy it`,
            };
      case "METHOD_NOT_ALLOWED":
        return { ok: false, message: `${status}: ${error.message}` };
      default:
        return { ok: false, message: `the receiver answered ${status} ${error.code}: ${error.message}` };
    }
  }
  if (status === 404) {
    return {
      ok: false,
      message: `404 at ${pathname}: wrong mount path. The receiver must answer <base URL>/<jobId>, so mount it at ${new URL(where.base).pathname} (Next.js: app${new URL(where.base).pathname}/[...job]/route.ts; Hono: app.route("${new URL(where.base).pathname}", serve(jobs)); Express: app.use("${new URL(where.base).pathname}", serve(jobs))), or set JOBSTASH_BASE_URL to where it is mounted`,
    };
  }
  if (status === 405) {
    return {
      ok: false,
      message: `405 at ${pathname}: something answers there, but not to POST. Is the route exporting POST (Next.js: export const { POST } = serve(jobs))?`,
    };
  }
  if (status >= 300 && status < 400) {
    const location = result.headers.get("location");
    return {
      ok: false,
      message: `${status} redirect${location ? ` to ${location}` : ""}: QStash does not follow redirects. Set JOBSTASH_BASE_URL to the final URL`,
    };
  }
  if (status === 400) {
    return {
      ok: false,
      message: `400 from something in front of the receiver, not jobstash (${excerpt(body)}): a body parser or middleware refused the request; mount the receiver before it`,
    };
  }
  if (status === 401 || status === 403) {
    return {
      ok: false,
      message: `${status} from something in front of the receiver, not jobstash (${excerpt(body)}): an auth middleware or a deployment protection (e.g. Vercel's) must let QStash's requests to ${pathname} through`,
    };
  }
  if (status >= 500) {
    return {
      ok: false,
      message: `${status} from the app before jobstash answered (${excerpt(body)}): check the app's logs; a missing environment variable or an import that fails are common causes`,
    };
  }
  if (status >= 200 && status < 300) {
    return {
      ok: false,
      message: /html/i.test(result.headers.get("content-type") ?? "")
        ? `${status} with an HTML page: something other than the jobstash receiver answers ${pathname} (a catch-all page?)`
        : `${status}: the app accepted an input this code's schema rejects, so the job may have run with it: the deployed code differs from this one`,
    };
  }
  return { ok: false, message: `unexpected answer ${status}: ${excerpt(body)}` };
}

function unauthorizedHint(message: string): string {
  if (/body hash/i.test(message)) {
    return ". The body changed on its way to jobstash: a body parser or middleware re-serialised it; pass the raw body (mount the receiver before any body parser)";
  }
  if (/signing key|does not match/i.test(message)) {
    return ". The app's QSTASH_CURRENT_SIGNING_KEY / QSTASH_NEXT_SIGNING_KEY differ from QStash's: copy them from the QStash it uses (`jobstash dev` prints its own)";
  }
  if (/expired|not valid before|clock/i.test(message))
    return ". Check the clocks of this machine and the app's";
  if (/missing Upstash-Signature/i.test(message))
    return ". A proxy in front of the app drops the Upstash-Signature header";
  return "";
}
