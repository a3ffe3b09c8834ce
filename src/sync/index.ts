export { type ApplyOptions, applySync } from "./apply.js";
export {
  type DesiredFlowControl,
  type DesiredQueue,
  type DesiredSchedule,
  type DesiredState,
  type DesiredStateOptions,
  desiredState,
} from "./desired.js";
export { dstWarnings, nextRuns } from "./dst.js";
export {
  type ApplyReport,
  type SkippedChange,
  SyncApplyError,
  SyncReadError,
  SyncValidationError,
} from "./errors.js";
export { type FormatOptions, formatPlan, planToJson } from "./format.js";
export { type Ownership, ownerLabel, ownershipId } from "./ownership.js";
export {
  type FlowControlChange,
  type ForeignResources,
  hasDrift,
  planSync,
  type QueueChange,
  type ScheduleChange,
  type SyncAction,
  type SyncChange,
  type SyncPlan,
} from "./plan.js";
export {
  type LoadRemoteOptions,
  loadRemote,
  type RemoteFlowControl,
  type RemoteQueue,
  type RemoteSchedule,
  type RemoteState,
  type SyncClient,
} from "./remote.js";
export { withRetry } from "./retry.js";
export { type SyncOptions, type SyncResult, syncJobstash } from "./run.js";
export type { FieldDiff, ScheduleSpec } from "./spec.js";
export { perDeploymentHost } from "./url-policy.js";
