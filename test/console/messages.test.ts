import { describe, expect, it } from "vitest";
import { consoleAppPerFile, eventually, openPage, pageErrors, poll } from "./harness.js";

const $ = consoleAppPerFile();

describe("the console's Messages page", () => {
  it("shows a message triggered from the API without a reload, then its delivery", async () => {
    const page = await openPage($.browser, `${$.app.console}/messages`);
    await page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
    });
    const id = await $.app.jobs.trigger("greet", { name: "Live" });
    const row = page.locator(`tr[data-message="${id}"]`);
    await row.waitFor();
    await poll(() => row.locator("[data-state]").innerText()).toBe("delivered");
    expect(await row.innerText()).toMatch(/greet/);
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    expect(pageErrors(page)).toEqual([]);
  });

  it("catches up on what happened between rendering a page and its live stream connecting", async () => {
    const id = await $.app.jobs.trigger("hold", {});
    await eventually(() => $.app.seen.held.length === 1);
    const context = await $.browser.newContext();
    const page = await context.newPage();
    // The stream connects only once the delivery has ended: no event will ever tell the page.
    let connect!: () => void;
    const connected = new Promise<void>((resolve) => {
      connect = resolve;
    });
    await page.route("**/console/stream", async (route) => {
      await connected;
      await route.continue();
    });
    await page.goto(`${$.app.console}/messages/${id}`);
    const state = () => page.locator("#message [data-state]").first().innerText();
    expect(await state()).toBe("active");
    $.app.seen.held[0]!();
    await eventually(
      async () => (await $.app.client.logs({ filter: { messageId: id, state: "DELIVERED" } })).logs.length,
    );
    connect();
    await page.locator("#live-status", { hasText: "Live" }).waitFor();
    await poll(state).toBe("delivered");
    await context.close();
  });

  it("filters by job, state, label and time, and opens a message by its id", async () => {
    const delivered = await $.app.jobs.trigger("greet", { name: "Filter" }, { label: "filters" });
    const waiting = await $.app.jobs.trigger("greet", { name: "Later" }, { delay: "1h", label: "filters" });
    const other = await $.app.jobs.trigger("flaky", { attempts: 1 });
    await eventually(() => $.app.seen.successes.includes("Filter"));
    const page = await openPage($.browser, `${$.app.console}/messages`);
    const ids = () =>
      page
        .locator("#messages-list tbody tr")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-message")));

    await page.getByLabel("Label").fill("filters");
    await poll(ids).toEqual([waiting, delivered]);
    await page.getByLabel("State").selectOption("CREATED");
    await poll(ids).toEqual([waiting]);
    expect(page.url()).toMatch(/[?&]state=CREATED/);
    await page.getByRole("link", { name: "Clear" }).click();
    await page.getByLabel("Job").selectOption("flaky");
    await poll(ids).toEqual([other]);
    // A time range in the future matches nothing; one around now matches again.
    const minute = (offset: number) => new Date(Date.now() + offset).toISOString().slice(0, 16);
    await page.getByLabel("From (UTC)").fill(minute(3_600_000));
    await poll(ids).toEqual([]);
    await page.getByLabel("From (UTC)").fill(minute(-3_600_000));
    await poll(ids).toEqual([other]);

    // Lookup by id: the message's own page.
    await page.getByRole("link", { name: "Clear" }).click();
    await page.getByLabel("Message id").fill(delivered);
    await page.waitForURL(`**/console/messages/${delivered}`);
    await page.getByRole("heading", { name: `Message ${delivered}` }).waitFor();
    expect(pageErrors(page)).toEqual([]);
  });

  it("a message's page shows each attempt: time, status, duration, error and next retry", async () => {
    const id = await $.app.jobs.trigger("flaky", { attempts: 2 });
    const page = await openPage($.browser, `${$.app.console}/messages/${id}`);
    const attempts = page.locator("li.attempt");
    await poll(() => attempts.count()).toBe(2);
    await poll(() => page.locator("#message [data-state]").first().innerText()).toBe("delivered");
    const first = await attempts.nth(0).innerText();
    expect(first).toMatch(/Status\s+500/);
    expect(first).toMatch(/Duration\s+\d+(\.\d+)? (ms|s)/);
    expect(first).toMatch(/Error\s+500 Internal Server Error\s+Reason\s+Error: not yet \(attempt 1\)/);
    expect(first).toMatch(/Next retry \(UTC\)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    await attempts.nth(0).getByText("Response body").click();
    expect(await attempts.nth(0).locator("pre").innerText()).toContain(
      '"message": "Error: not yet (attempt 1)"',
    );
    expect(await attempts.nth(1).innerText()).toMatch(/Status\s+200/);
    // The decoded body and the headers jobstash sent.
    expect(JSON.parse(await page.locator("pre.body").last().innerText())).toEqual({ attempts: 2 });
    expect(await page.locator("table", { hasText: "Jobstash-Max-Retries" }).innerText()).toMatch(
      /Jobstash-Max-Retries\s+1/,
    );
    expect(pageErrors(page)).toEqual([]);
  });

  it("a message's page lists its callbacks and how they ended", async () => {
    const id = await $.app.jobs.trigger("greet", { name: "Callback" });
    await eventually(() => $.app.seen.successes.includes("Callback"));
    const page = await openPage($.browser, `${$.app.console}/messages/${id}`);
    const callback = page.locator("ul.callbacks li");
    await poll(() => callback.innerText()).toMatch(/Success callback msg_\S+ delivered answered 200/);
    await callback.getByRole("link").click();
    await page.getByText("callback of").waitFor();
  });

  it("Cancel stops a pending message", async () => {
    const id = await $.app.jobs.trigger("greet", { name: "Never" }, { delay: "1h" });
    const page = await openPage($.browser, `${$.app.console}/messages/${id}`);
    await page.getByRole("button", { name: "Cancel" }).click();
    await poll(() => page.locator("#message [data-state]").first().innerText()).toBe("cancelled");
    expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(0);
    await expect($.app.client.messages.get(id)).rejects.toThrow(/not found/);
    expect(await page.locator("#notice").innerText()).toBe(`Cancelled ${id}`);
  });
});
