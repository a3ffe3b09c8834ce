import type { Config } from "./config.js";
import type { Fail } from "./errors.js";
import { checkFlowControl, jobDefaults } from "./job/define.js";
import type { AnyJob } from "./job/types.js";
import type { TriggerOptions } from "./jobstash.js";
import { callbackUrl, FORWARDED, jobUrl, type PublishMessage } from "./protocol.js";
import { type Duration, toMilliseconds, toSeconds } from "./util/duration.js";

/** Whole seconds of an optional duration, as QStash's headers take them. */
const seconds = (duration: Duration | undefined) =>
  duration === undefined ? undefined : toSeconds(duration);

/**
 * The QStash publish request for one trigger: the job's defaults, then the call's overrides.
 * Sync builds each schedule with it too (through the SDK's schedules API), so a scheduled run
 * carries what a trigger would. Unset options stay `undefined` and are left out of the request.
 */
export function buildRequest(
  job: AnyJob,
  input: unknown,
  parsed: unknown,
  call: TriggerOptions,
  config: Config,
  fail: Fail,
) {
  const def = job.definition;
  const baseUrl = config.baseUrl();
  const defaults = jobDefaults(job);
  const retries = call.retries ?? defaults.retries;
  const label = call.label ?? defaults.label;
  const retryDelay = call.retryDelay ?? def.retryDelay;
  const flowControl =
    call.flowControl ?? (typeof def.flowControl === "function" ? def.flowControl(parsed) : def.flowControl);
  if (flowControl) checkFlowControl(flowControl, fail);
  // The job's own timeout is in the receiver's code; only the call's has to travel.
  const callTimeout = call.timeout === undefined ? 0 : toMilliseconds(call.timeout);

  return {
    url: jobUrl(baseUrl, job.id),
    body: input,
    retries,
    label,
    headers: {
      ...call.headers,
      [FORWARDED.maxRetries]: String(retries),
      [FORWARDED.label]: label,
      ...(callTimeout > 0 && { [FORWARDED.timeout]: String(callTimeout) }),
    },
    retryDelay: retryDelay === undefined ? undefined : String(retryDelay),
    timeout: seconds(call.timeout ?? def.timeout),
    delay: seconds(call.delay ?? def.delay),
    notBefore: call.notBefore && Math.floor(call.notBefore.getTime() / 1000),
    deduplicationId: call.deduplicationId,
    contentBasedDeduplication: call.contentBasedDeduplication,
    flowControl:
      flowControl &&
      ({
        key: flowControl.key,
        parallelism: flowControl.parallelism,
        rate: flowControl.rate,
        period: seconds(flowControl.period),
        // checkFlowControl made sure one limit is set; sync's SDK schedule type wants it spelled out.
      } as { key: string; parallelism: number }),
    callback: def.onSuccess && callbackUrl(baseUrl, job.id, "success"),
    failureCallback: def.onFailure && callbackUrl(baseUrl, job.id, "failure"),
    queueName: call.queue ?? def.queue,
  } satisfies PublishMessage;
}
