/**
 * A value, or a promise of it. node:crypto and most schemas answer synchronously, WebCrypto
 * and async schemas with a promise; the receiver awaits only what is a promise, because every
 * `await` on the delivery path costs a microtask and a suspended frame, per request.
 */
export type Maybe<T> = T | PromiseLike<T>;

/** Whether `await value` would wait: a promise or any other thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** `next(value)`, at once when `value` is not a promise, else once it resolves. */
export function andThen<T, U>(value: Maybe<T>, next: (value: T) => Maybe<U>): Maybe<U> {
  return isThenable(value) ? Promise.resolve(value).then(next) : next(value);
}
