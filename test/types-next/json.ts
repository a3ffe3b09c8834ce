// The README's account of what `onSuccess` gets without an output schema ("Callbacks"), checked
// under both tsconfigs like jobs.ts. Without `strictNullChecks` a `T | undefined` is just `T`
// and a bare `undefined` is inferred as `any`, so only what both modes can express is checked
// here; test/types.test-d.ts has the rest.
import { defineJob, type Jsonify } from "jobstash";
import { expectTypeOf } from "vitest";
import { z } from "zod";

class Money {
  constructor(readonly cents: number) {}
  format() {
    return `${this.cents / 100} EUR`;
  }
}

export const report = defineJob({
  id: "report",
  input: z.object({ day: z.string() }),
  async run(input) {
    return {
      day: input.day,
      at: new Date(),
      note: undefined as string | undefined,
      log: () => {},
      pair: [new Date(), undefined] as [Date, undefined],
      tags: new Set<string>(),
      money: new Money(100),
    };
  },
  onSuccess({ output }) {
    expectTypeOf(output.at).toEqualTypeOf<string>();
    expectTypeOf(output.pair).toEqualTypeOf<[string, null]>();
    expectTypeOf(output.tags).toEqualTypeOf<Record<string, never>>();
    expectTypeOf(output.money).toEqualTypeOf<{ cents: number }>();
    expectTypeOf(output).not.toHaveProperty("log");
    expectTypeOf(output).toHaveProperty("note");
  },
});

export const nothing = defineJob({
  id: "nothing",
  input: z.object({}),
  async run() {},
  onSuccess({ output }) {
    expectTypeOf(output).toEqualTypeOf<undefined>();
  },
});

export const date = defineJob({
  id: "date",
  input: z.object({}),
  run: () => new Date(),
  onSuccess({ output }) {
    expectTypeOf(output).toEqualTypeOf<string>();
  },
});

// Declared optional properties stay optional; null stays null.
expectTypeOf<Jsonify<{ at?: Date; n: null; items: readonly Date[] }>>().toEqualTypeOf<{
  at?: string;
  n: null;
  items: string[];
}>();
expectTypeOf<Jsonify<undefined>>().toBeNever();
expectTypeOf<Jsonify<null>>().toBeNull();
