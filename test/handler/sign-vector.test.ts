import { describe, expect, it } from "vitest";
import { sign } from "../helpers/sign.js";

// Wire spec 5.2: the test signer must reproduce the documented vector, or every handler test
// below would be checking against our own misreading.
describe("test signer", () => {
  it("reproduces the wire spec's test vector", () => {
    const token = sign({
      key: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
      url: "http://127.0.0.1:3000/api/job",
      body: '{"hello":"world"}',
      now: 1700000000,
      claims: { jti: "jwt_test" },
    });
    const [header, payload, signature] = token.split(".");
    expect(header).toBe("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toEqual({
      iss: "Upstash",
      sub: "http://127.0.0.1:3000/api/job",
      exp: 1700000300,
      nbf: 1700000000,
      iat: 1700000000,
      jti: "jwt_test",
      body: "k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg=",
    });
    expect(signature).toBe("qJHnip7cxudR9fzKoFQT3LaMaui68SEPrWZnPy3a6No");
  });
});
