import { describe, expect, it } from "vitest";
import registry from "./fixtures/ops/jobstash.config.js";
import { opsStackForFile } from "./ops-harness.js";
import { requireBuiltCli } from "./run.js";

requireBuiltCli();
const stack = opsStackForFile(registry);

/** Entries per job in the DLQ, counted through the official Client (its own paging). */
async function dlqCount(job?: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await stack.client.dlq.listMessages({
      count: 100,
      cursor,
      ...(job && { filter: { url: `${stack.baseUrl}/${job}` } }),
    });
    count += page.messages.length;
    cursor = page.cursor;
  } while (cursor);
  return count;
}

/** `n` messages published in batches straight to a job's URL, each failing for good. */
async function fill(job: string, n: number, body: (i: number) => unknown): Promise<void> {
  for (let start = 0; start < n; start += 100) {
    const batch = Array.from({ length: Math.min(100, n - start) }, (_, k) => ({
      url: `${stack.baseUrl}/${job}`,
      body: body(start + k),
      retries: 0,
    }));
    await stack.client.batchJSON(batch);
  }
}

const BOUNCED = 2_500;
const UNFIT = 150;

describe("bulk DLQ operations on thousands of entries", () => {
  it("list, retry --all and delete --all page through every entry, and count right", async () => {
    await fill("bounce", BOUNCED, (i) => ({ email: `user${i}@bounce.test` }));
    await fill("greet", UNFIT, () => ({ name: "" }));
    await expect.poll(() => dlqCount(), { timeout: 60_000, interval: 250 }).toBe(BOUNCED + UNFIT);

    const all = await stack.cli(["dlq", "list", "--json"]);
    expect(all.code, all.stderr).toBe(0);
    const listed = JSON.parse(all.stdout);
    expect(listed.count).toBe(BOUNCED + UNFIT);
    expect(new Set(listed.entries.map((e: { dlqId: string }) => e.dlqId)).size).toBe(BOUNCED + UNFIT);
    expect(listed.entries.filter((e: { fits: boolean }) => e.fits === false)).toHaveLength(UNFIT);
    const table = await stack.cli(["dlq", "list", "--job", "greet"]);
    expect(table.stdout).toMatch(new RegExp(`\\n${UNFIT} entries, ${UNFIT} no longer fit the job's schema`));

    // Retry one job's entries: each becomes a new message (which fails again, back in the DLQ).
    const retried = await stack.cli(["dlq", "retry", "--all", "--job", "bounce"]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toBe(`Retried ${BOUNCED} entries as new messages at ${stack.url}\n`);
    // Progress without a terminal: a line at each quarter.
    expect(retried.stderr).toBe([700, 1300, 1900, 2500].map((n) => `  retrying ${n}/${BOUNCED}\n`).join(""));
    await expect.poll(() => dlqCount("bounce"), { timeout: 60_000, interval: 250 }).toBe(BOUNCED);
    expect(await dlqCount("greet")).toBe(UNFIT);

    const refused = await stack.cli(["dlq", "delete", "--all", "--job", "bounce"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `jobstash dlq: Delete ${BOUNCED} DLQ entries of job bounce at ${stack.url}: pass --yes to confirm (no terminal to ask on)\n`,
    );
    expect(await dlqCount("bounce")).toBe(BOUNCED);

    const deleted = await stack.cli(["dlq", "delete", "--all", "--job", "bounce", "--yes", "--json"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: BOUNCED });
    expect(await dlqCount("bounce")).toBe(0);
    expect(await dlqCount()).toBe(UNFIT);
  }, 180_000);
});
