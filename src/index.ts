export type { EnvSource } from "./config.js";
export {
  ConfigError,
  InvalidPayloadError,
  JobstashError,
  NonRetryableError,
  RetryAfterError,
} from "./errors.js";
export {
  createHandler,
  createReplyHandler,
  type DeliveryRequest,
  type ExecutionContextLike,
  type Handler,
  type ReplyHandler,
  type ReplyHandlerOptions,
} from "./handler/handler.js";
export type { Reply } from "./handler/respond.js";
export { defineJob } from "./job/define.js";
export {
  defineFlowControl,
  defineQueue,
  type FlowControlDeclaration,
  type FlowControlDefinition,
  type QueueDeclaration,
  type QueueDefinition,
} from "./job/resources.js";
export type {
  AnyJob,
  DeliveryOptions,
  FlowControl,
  Job,
  JobContext,
  JobDefinition,
  JobFailure,
  JobInput,
  JobOutput,
  JobSchedule,
  Logger,
  ScheduleDefinition,
  Schema,
} from "./job/types.js";
export {
  type AnyJobstash,
  type BatchItem,
  createJobstash,
  type Jobstash,
  type JobstashOptions,
  type JobstashWithEnv,
  type TriggerOptions,
} from "./jobstash.js";
export { PublishError } from "./qstash.js";
export type { Duration, DurationUnit } from "./util/duration.js";
export type { Jsonify } from "./util/json.js";
