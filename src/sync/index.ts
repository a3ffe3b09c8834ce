/**
 * `jobstash/sync`: what a deploy script needs. `syncJobstash` does the whole run; the step
 * functions (desired -> remote -> plan -> apply) let a script look at or change what is
 * between them; `formatPlan` and `planToJson` print a plan as `jobstash sync` does. The
 * planner's parts (ownership, specs, retrying, DST) are internal modules of this folder.
 */
export { type ApplyOptions, applySync } from "./apply.js";
export {
  type DesiredFlowControl,
  type DesiredQueue,
  type DesiredSchedule,
  type DesiredState,
  type DesiredStateOptions,
  desiredState,
} from "./desired.js";
export { type ApplyReport, SyncApplyError, SyncReadError, SyncValidationError } from "./errors.js";
export { type FormatOptions, formatPlan, planToJson } from "./format.js";
export { hasDrift, planSync, type SyncChange, type SyncPlan } from "./plan.js";
export { type LoadRemoteOptions, loadRemote, type RemoteState, type SyncClient } from "./remote.js";
export { type SyncOptions, type SyncResult, syncJobstash } from "./run.js";
