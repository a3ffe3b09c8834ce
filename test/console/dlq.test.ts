import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { consoleAppPerFile, eventually, openPage, pageErrors, poll } from "./harness.js";

const $ = consoleAppPerFile();
beforeEach(async () => {
  const dlqIds = (await $.app.client.dlq.listMessages()).messages.map((m) => m.dlqId);
  if (dlqIds.length) await $.app.client.dlq.deleteMany({ dlqIds });
});

/** Fails an order for good (the job throws NonRetryableError); resolves to its DLQ id. */
async function declined(orderId: string): Promise<string> {
  const messageId = await $.app.jobs.trigger("charge", { orderId, cents: 500 });
  return eventually(async () => {
    const { messages } = await $.app.client.dlq.listMessages({ filter: { messageId } });
    return messages[0]?.dlqId;
  });
}

const entries = (page: Page) =>
  page.locator("ul.dead > li").evaluateAll((items) => items.map((li) => li.getAttribute("data-dlq")));

describe("the console's dead-letter queue", () => {
  it("lists each dead letter with its decoded body, last response and the failure reason", async () => {
    const dlqId = await declined("declined-1");
    const page = await openPage($.browser, `${$.app.console}/dlq`);
    const entry = page.locator(`li[data-dlq="${dlqId}"]`);
    expect(await entry.locator(".error-text").innerText()).toBe("card declined for declined-1");
    expect(await entry.locator(".head").innerText()).toMatch(/charge\s+489/);
    await entry.getByText("Body", { exact: true }).click();
    expect(JSON.parse(await entry.locator("pre").first().innerText())).toEqual({
      orderId: "declined-1",
      cents: 500,
    });
    await entry.getByText("Last response").click();
    expect(await entry.locator("pre").nth(1).innerText()).toContain('"code": "NON_RETRYABLE"');
    expect(pageErrors(page)).toEqual([]);
  });

  it("Retry republishes a dead letter and Delete removes one", async () => {
    const [first, second] = [await declined("declined-2"), await declined("declined-3")];
    const page = await openPage($.browser, `${$.app.console}/dlq`);
    const failuresBefore = $.app.seen.failures.length;
    await page.getByRole("button", { name: `Retry ${first}` }).click();
    await poll(() => page.locator("#notice").innerText()).toMatch(/^Retried as msg_/);
    // Republished with the same body, so it fails again and lands back in the DLQ as a new entry.
    await eventually(() => $.app.seen.failures.length > failuresBefore);
    await page.getByRole("button", { name: `Delete ${second}` }).click();
    await poll(() => page.locator("#notice").innerText()).toBe(`Deleted ${second}`);
    await poll(() => entries(page)).not.toContain(second);
    expect(await entries(page)).not.toContain(first);
    await expect($.app.client.dlq.listMessages({ filter: { messageId: undefined } })).resolves.toMatchObject({
      messages: [expect.objectContaining({ body: JSON.stringify({ orderId: "declined-2", cents: 500 }) })],
    });
  });

  it("retries and deletes in bulk, by filter", async () => {
    const charges = [await declined("declined-4"), await declined("declined-5")];
    const other = await $.app.client.publishJSON({
      url: `${$.app.baseUrl}/greet`,
      body: { name: 7 },
      retries: 0,
    });
    const otherDlq = await eventually(
      async () =>
        (await $.app.client.dlq.listMessages({ filter: { messageId: other.messageId } })).messages[0]?.dlqId,
    );
    const page = await openPage($.browser, `${$.app.console}/dlq`);
    await page.getByLabel("Job").selectOption("charge");
    await poll(() => entries(page)).toEqual([...charges].reverse());
    const failuresBefore = $.app.seen.failures.length;
    await page.getByRole("button", { name: "Retry all 2" }).click();
    await poll(() => page.locator("#notice").innerText()).toBe("Retried 2 dead letters as new messages");
    await eventually(() => $.app.seen.failures.length >= failuresBefore + 2);
    // The live list swaps the two retried entries for their two new ones: wait for the swap,
    // not just for two rows (the old two are two rows as well).
    await poll(async () => {
      const now = await entries(page);
      return now.length === 2 && !charges.some((c) => now.includes(c));
    }).toBe(true);
    await page.getByRole("button", { name: "Delete all 2" }).click();
    await poll(() => entries(page)).toEqual([]);
    // The filter kept the other job's dead letter out of both.
    const left = (await $.app.client.dlq.listMessages()).messages.map((m) => m.dlqId);
    expect(left).toEqual([otherDlq]);
  });

  it("Edit and retry refuses a body the job's schema rejects, with the schema's issues", async () => {
    const dlqId = await declined("declined-6");
    const page = await openPage($.browser, `${$.app.console}/dlq`);
    await page.getByRole("link", { name: `Edit and retry ${dlqId}` }).click();
    const editor = page.getByLabel("Body (JSON)");
    expect(JSON.parse(await editor.inputValue())).toEqual({ orderId: "declined-6", cents: 500 });
    await editor.fill('{ "orderId": "ok-6", "cents": -1 }');
    await page.getByRole("button", { name: "Edit and retry" }).click();
    await poll(() => page.locator("#edit-issues").innerText()).toMatch(
      /cents: Too small: expected number to be >0/,
    );
    // Nothing was published, and the dead letter is still there.
    expect((await $.app.client.dlq.listMessages()).messages.map((m) => m.dlqId)).toEqual([dlqId]);
    expect(page.url()).toMatch(new RegExp(`/console/dlq/${dlqId}`));
  });

  it("Edit and retry republishes a valid body as a new message, delivered, and removes the dead letter", async () => {
    const dlqId = await declined("declined-7");
    const page = await openPage($.browser, `${$.app.console}/dlq/${dlqId}`);
    await page.getByLabel("Body (JSON)").fill('{ "orderId": "fixed-7", "cents": 700 }');
    await page.getByRole("button", { name: "Edit and retry" }).click();
    await page.waitForURL(/\/console\/messages\/msg_/);
    await poll(() => page.locator("#message [data-state]").first().innerText()).toBe("delivered");
    expect(JSON.parse(await page.locator("pre.body").last().innerText())).toEqual({
      orderId: "fixed-7",
      cents: 700,
    });
    expect(await page.locator("#message").innerText()).toMatch(/Queue\s+payments/);
    expect((await $.app.client.dlq.listMessages()).messages).toEqual([]);
    expect(pageErrors(page)).toEqual([]);
  });

  it("Edit and retry publishes the new input as jobs.trigger would: its flow-control key follows the input", async () => {
    const messageId = await $.app.jobs.trigger("ship", { region: "nowhere" });
    const dlqId = await eventually(
      async () => (await $.app.client.dlq.listMessages({ filter: { messageId } })).messages[0]?.dlqId,
    );
    const page = await openPage($.browser, `${$.app.console}/dlq/${dlqId}`);
    await page.getByLabel("Body (JSON)").fill('{ "region": "eu" }');
    await page.getByRole("button", { name: "Edit and retry" }).click();
    await page.waitForURL(/\/console\/messages\/msg_/);
    await poll(() => page.locator("#message [data-state]").first().innerText()).toBe("delivered");
    expect(await page.locator("#message").innerText()).toMatch(/Flow-control key\s+region-eu rate 100\/1s/);
    expect((await $.app.client.dlq.listMessages()).messages).toEqual([]);
    expect(pageErrors(page)).toEqual([]);
  });
});
