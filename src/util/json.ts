/**
 * What `JSON.stringify` leaves out: an object property holding one of these is dropped, an
 * array item becomes `null`, and a whole value of this kind serialises to nothing at all.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a `run` that returns nothing is typed `void`, not `undefined`.
type Dropped = undefined | void | symbol | ((...args: any[]) => unknown);

/*
 * Without `strictNullChecks` (the tsconfig `next build` writes has `"strict": false`) `null` and
 * `undefined` are assignable to every type, so `T extends Date` or `T extends Dropped` holds
 * for both of them and `null extends undefined` holds too. The helpers below therefore split
 * them off first and tell them apart by name (`${T}` is "null" or "undefined" in either mode).
 */

/** Whether JSON keeps a value of type `T` (one member of a union): `null` yes, `undefined` no. */
type Kept<T> = T extends null | undefined
  ? `${T}` extends "null"
    ? true
    : false
  : T extends Dropped
    ? false
    : true;
/** The members of `T` that JSON keeps. */
type KeptPart<T> = T extends unknown ? (Kept<T> extends true ? T : never) : never;
/** The members of `T` that JSON leaves out ({@link Dropped}). */
type DroppedPart<T> = T extends unknown ? (Kept<T> extends true ? never : T) : never;

/** Whether some member of the union `T` is {@link Dropped}: `any` and `unknown` may be. */
type MayDrop<T> = unknown extends T ? true : [DroppedPart<T>] extends [never] ? false : true;

/**
 * The type of `JSON.parse(JSON.stringify(value))` for a `value: T`, i.e. what arrives at the
 * other end of a JSON hop such as QStash's success callback:
 *
 * - `string`, `number`, `boolean` and `null` stay as they are (`NaN` and `Infinity` become
 *   `null` at run time; no type can tell them from other numbers);
 * - an object with a `toJSON()` method becomes what that method returns: a `Date` becomes a
 *   `string` (ISO 8601), a Node `Buffer` becomes `{ type: "Buffer"; data: number[] }`;
 * - `bigint` becomes `never`: `JSON.stringify` throws on it;
 * - functions, symbols and `undefined` are `never` on their own; as properties they are
 *   dropped (and a property that is only sometimes one of them becomes optional), as array
 *   items they become `null`;
 * - `Map`, `Set`, `WeakMap` and `WeakSet` become an empty object, typed arrays a record of numbers;
 * - arrays, tuples and objects are converted member by member, optional members stay optional,
 *   `readonly` goes (a parsed value is a fresh copy), and symbol keys are dropped;
 * - class instances keep their own data properties and lose their methods.
 *
 * Without `strictNullChecks` (`"strict": false`) a `T | undefined` is just `T`, so a property
 * comes out optional only when it is declared optional; the rest is typed as in strict mode.
 *
 * At the top level a value of a dropped kind has no JSON at all; {@link JsonResult} is the
 * type for a job's output, where that comes back as `undefined`.
 *
 * Limits: getters declared on a class are typed as properties but `JSON.stringify` only sees
 * own enumerable properties; a `toJSON()` that takes over an object's properties is honoured
 * only through its declared return type.
 *
 * @example
 * type Sent = { at: Date; tags: Set<string>; note?: string; run(): void };
 * type Received = Jsonify<Sent>; // { at: string; tags: Record<string, never>; note?: string }
 */
export type Jsonify<T> = 0 extends 1 & T
  ? any
  : unknown extends T
    ? unknown
    : T extends null | undefined
      ? KeptPart<T>
      : T extends { toJSON(...args: any[]): infer J }
        ? Jsonify<J>
        : T extends string | number | boolean
          ? T
          : T extends bigint | Dropped
            ? never
            : T extends
                  | ReadonlyMap<unknown, unknown>
                  | ReadonlySet<unknown>
                  | WeakMap<object, unknown>
                  | WeakSet<object>
              ? Record<string, never>
              : T extends ArrayBufferView
                ? Record<string, number>
                : T extends readonly unknown[]
                  ? JsonifyList<T>
                  : T extends object
                    ? JsonifyObject<T>
                    : never;

/** Arrays and tuples, item by item; a dropped item is `null`, a missing optional one stays missing. */
type JsonifyList<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: Jsonify<T[K]> | (MayDrop<T[K]> extends true ? null : never);
};

/** Keys whose value is always serialised. */
type KeptKeys<T> = { [K in keyof T]-?: MayDrop<T[K]> extends true ? never : K }[keyof T];
/** Keys whose value is sometimes dropped: they may be missing after the trip. */
type MaybeKeys<T> = {
  [K in keyof T]-?: MayDrop<T[K]> extends true ? ([KeptPart<T[K]>] extends [never] ? never : K) : never;
}[keyof T];

/**
 * Objects and class instances, property by property; symbol keys never reach JSON. Mapped over
 * `keyof T` so declared optional properties stay optional even where `undefined` is invisible
 * (without `strictNullChecks`).
 */
type JsonifyObject<T> = Flatten<
  {
    -readonly [K in keyof T as K extends symbol ? never : K extends KeptKeys<T> ? K : never]: Jsonify<T[K]>;
  } & {
    -readonly [K in keyof T as K extends symbol ? never : K extends MaybeKeys<T> ? K : never]?: Jsonify<T[K]>;
  }
>;

/** One object type instead of an intersection, so editors and type tests show it plainly. */
type Flatten<T> = { [K in keyof T]: T[K] } & {};

/**
 * A value after a JSON hop where "no JSON at all" (an `undefined`, a function) arrives as
 * `undefined`, as a job's output does: an empty response body reaches `onSuccess` as `undefined`.
 */
export type JsonResult<T> = Jsonify<T> | (MayDrop<T> extends true ? undefined : never);
