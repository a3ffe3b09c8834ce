export {
  type ApplyOptions,
  type ApplyReport,
  applySync,
  type SkippedChange,
  SyncApplyError,
  withRetry,
} from "./apply.js";
export {
  type DesiredFlowControl,
  type DesiredQueue,
  type DesiredSchedule,
  type DesiredState,
  type DesiredStateOptions,
  desiredState,
  ownerLabel,
  ownershipId,
  perDeploymentHost,
  type ScheduleSpec,
  SyncValidationError,
} from "./desired.js";
export { dstWarnings, type FormatOptions, formatPlan, nextRuns, planToJson } from "./format.js";
export {
  type FieldDiff,
  type FlowControlChange,
  type ForeignResources,
  hasDrift,
  type Ownership,
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
export { type SyncOptions, SyncReadError, type SyncResult, syncJobstash } from "./run.js";
