import { Receiver } from "@upstash/qstash";
import { DEV_USERS } from "jobstash/dev-server";
import { describe, expect, it } from "vitest";
import { bodyHash, signDelivery, signRaw } from "../../src/dev-server/engine/signing.js";

describe("delivery signatures", () => {
  it("matches the wire spec 5.2 test vector byte for byte", () => {
    const payload =
      '{"iss":"Upstash","sub":"http://127.0.0.1:3000/api/job","exp":1700000300,"nbf":1700000000,"iat":1700000000,"jti":"jwt_test","body":"k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg="}';
    const [header, , sig] = signRaw("sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r", payload).split(".");
    expect(header).toBe("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    expect(sig).toBe("qJHnip7cxudR9fzKoFQT3LaMaui68SEPrWZnPy3a6No");
    expect(bodyHash('{"hello":"world"}')).toBe("k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg=");
    expect(bodyHash("")).toBe("47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=");
  });

  it("writes claims the official Receiver accepts, and that fail for another body or URL", async () => {
    const u = DEV_USERS.testUser1;
    const receiver = new Receiver({
      currentSigningKey: u.currentSigningKey,
      nextSigningKey: u.nextSigningKey,
    });
    const url = "http://127.0.0.1:3000/api/job";
    const jwt = signDelivery(u.currentSigningKey, {
      sub: url,
      iat: Math.floor(Date.now() / 1000),
      body: "x",
    });
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ iss: "Upstash", sub: url, nbf: 0 });
    expect(claims.exp - claims.iat).toBe(300);
    expect(claims.jti).toMatch(/^jwt_/);
    await expect(receiver.verify({ signature: jwt, body: "x", url })).resolves.toBe(true);
    await expect(receiver.verify({ signature: jwt, body: "y", url })).rejects.toThrow(/body hash/);
    await expect(receiver.verify({ signature: jwt, body: "x", url: `${url}/other` })).rejects.toThrow(
      /subject/,
    );
    const other = DEV_USERS.testUser2;
    const wrongKey = signDelivery(other.currentSigningKey, { sub: url, iat: claims.iat, body: "x" });
    await expect(receiver.verify({ signature: wrongKey, body: "x", url })).rejects.toThrow();
  });
});
