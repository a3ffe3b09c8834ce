import { describe, expect, it } from "vitest";
import {
  claimedByOther,
  isOwnershipRecord,
  mayDelete,
  ownedAfterPlan,
  ownerLabel,
  ownershipId,
  ownershipSpec,
  readClaims,
  scheduleId,
  scheduleOwner,
  stillOwned,
} from "../../src/sync/ownership.js";

const record = (app: string, env: string, owned: { queues?: string[]; flowControls?: string[] }) => ({
  id: ownershipId(app, env),
  spec: ownershipSpec(
    { app, env, baseUrl: "https://acme.dev/api/jobs" },
    { queues: owned.queues ?? [], flowControls: owned.flowControls ?? [] },
  ),
});

describe("ownership", () => {
  it("names schedules and records so their owner parses back", () => {
    expect(scheduleId("acme", "production", "send-welcome", "daily")).toBe(
      "acme.production.send-welcome.daily",
    );
    expect(ownershipId("acme", "production")).toBe("acme.production._jobstash");
    expect(isOwnershipRecord(ownershipId("acme", "production"))).toBe(true);
    expect(isOwnershipRecord(scheduleId("acme", "production", "job", "s"))).toBe(false);
    expect(ownerLabel("acme", "production")).toBe("jobstash.acme.production");
  });

  it("tells this app/env's schedules from another jobstash app's and from foreign ones", () => {
    const labels = [ownerLabel("acme", "production")];
    const ours = { id: scheduleId("acme", "production", "job", "s"), labels };
    expect(scheduleOwner("acme", "production", ours)).toEqual({
      owner: "this",
      ownedBy: "acme/production",
      record: false,
    });
    // The same schedule seen from staging, or with no registry to say which app is "this".
    expect(scheduleOwner("acme", "staging", ours).owner).toBe("other");
    expect(scheduleOwner(undefined, "production", ours).owner).toBe("other");
    // The label alone is not enough: the id must carry the prefix too.
    expect(scheduleOwner("acme", "production", { id: "hand-made", labels }).owner).toBe("other");
    expect(scheduleOwner("acme", "production", { id: "hand-made", labels: ["mine"] })).toEqual({
      owner: "foreign",
      record: false,
    });
    const theirs = record("billing", "production", { queues: ["q"] });
    expect(scheduleOwner("acme", "production", { id: theirs.id, labels: theirs.spec.labels })).toEqual({
      owner: "other",
      ownedBy: "billing/production",
      record: true,
    });
  });

  it("reads every record: ours may delete, another's claim is a conflict", () => {
    const claims = readClaims("acme", "production", [
      record("acme", "production", { queues: ["mine"], flowControls: ["k"] }),
      record("acme", "staging", { queues: ["staged"] }),
      record("billing", "production", { queues: ["mine", "theirs"], flowControls: ["k2"] }),
      // An id that looks like a record without a jobstash label claims nothing.
      { id: "x.y._jobstash", spec: { labels: ["hand-made"], body: '{"queues":["q"]}' } },
    ]);
    expect(claims.ours).toEqual({ queues: ["mine"], flowControls: ["k"] });
    expect(mayDelete(claims, "queues", "mine")).toBe(true);
    expect(mayDelete(claims, "queues", "theirs")).toBe(false);
    expect(mayDelete(claims, "queues", "q")).toBe(false);
    // A name both records list stays ours; one only another lists is theirs.
    expect(claimedByOther(claims, "queues", "mine")).toBeUndefined();
    expect(claimedByOther(claims, "queues", "theirs")).toBe("billing.production");
    expect(claimedByOther(claims, "queues", "staged")).toBe("acme.staging");
    expect(claimedByOther(claims, "flowControls", "k2")).toBe("billing.production");
    expect(claimedByOther(claims, "queues", "q")).toBeUndefined();
  });

  it("drops a name from the record only once its delete has succeeded", () => {
    const owned = ownedAfterPlan({ queues: ["b", "gone", "a"], flowControls: ["k"] });
    expect(owned).toEqual({ queues: ["a", "b", "gone"], flowControls: ["k"] });
    expect(stillOwned(owned, { queues: new Set(["gone"]), flowControls: new Set() })).toEqual({
      queues: ["a", "b"],
      flowControls: ["k"],
    });
  });

  it("reads an unreadable record as owning nothing", () => {
    const claims = readClaims("acme", "production", [
      {
        id: ownershipId("acme", "production"),
        spec: { labels: [ownerLabel("acme", "production")], body: "{" },
      },
    ]);
    expect(claims.ours).toEqual({ queues: [], flowControls: [] });
  });
});
