export {
  ConfigError,
  InvalidPayloadError,
  JobstashError,
  NonRetryableError,
  RetryAfterError,
} from "./errors.js";
export type { Duration, DurationUnit } from "./util/duration.js";
