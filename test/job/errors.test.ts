import {
  ConfigError,
  createHandler,
  createJobstash,
  defineJob,
  JobstashError,
  NonRetryableError,
} from "jobstash";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BASE } from "../helpers/fixture.js";
import { delivery, KEYS } from "../helpers/sign.js";

// An app's own failure kind, refined from NonRetryableError with a kind of its own.
class PaymentDeclined extends NonRetryableError {
  static override readonly kind = "PaymentDeclined";
}

describe("error kinds", () => {
  it("an error of a refined kind is an instance of every class it extends, and of no other", () => {
    const error = new PaymentDeclined("card declined");
    expect(error.name).toBe("PaymentDeclined");
    expect(error).toBeInstanceOf(PaymentDeclined);
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(error).toBeInstanceOf(JobstashError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(new NonRetryableError("x")).not.toBeInstanceOf(PaymentDeclined);
  });

  it("a subclass without a kind of its own keeps its parent's", () => {
    class Fatal extends NonRetryableError {}
    const error = new Fatal("x");
    expect(error.name).toBe("NonRetryableError");
    expect(error).toBeInstanceOf(NonRetryableError);
  });

  it("the receiver fails a job that throws a refined NonRetryableError for good (489)", async () => {
    const jobs = createJobstash({
      app: "a",
      jobs: [
        defineJob({
          id: "charge",
          input: z.any(),
          run: () => {
            throw new PaymentDeclined("card declined");
          },
        }),
      ],
      baseUrl: BASE,
      signingKeys: KEYS,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const response = await createHandler(jobs)(delivery(`${BASE}/charge`, {}));
    expect(response.status).toBe(489);
    expect(response.headers.get("upstash-nonretryable-error")).toBe("true");
  });
});
