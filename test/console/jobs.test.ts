import { describe, expect, it } from "vitest";
import { nextRuns } from "../../src/sync/dst.js";
import { consoleAppPerFile, eventually, openPage, pageErrors, poll } from "./harness.js";

const $ = consoleAppPerFile();

describe("the console's Jobs page", () => {
  it("lists every job of the registry with its schema, settings and schedules", async () => {
    const page = await openPage($.browser, `${$.app.console}/jobs`);
    const rows = page.locator("#jobs tbody tr");
    expect(await rows.count()).toBe(6);
    expect(await rows.filter({ hasText: "ship" }).innerText()).toMatch(/from the input/);
    const charge = rows.filter({ hasText: "charge" });
    await poll(() => charge.innerText()).toMatch(
      /charge\s+JSON Schema\s+3\s+payments\s+psp, parallelism 2\s+0 9 \* \* 1 Europe\/Paris/,
    );
    // z.date() has no JSON Schema: the console says so instead of guessing.
    expect(await rows.filter({ hasText: "dated" }).locator("td").nth(1).innerText()).toBe("custom");
    expect(pageErrors(page)).toEqual([]);
  });

  it("shows a job's JSON Schema and its schedules' next three fire times in their zone", async () => {
    const page = await openPage($.browser, `${$.app.console}/jobs/charge`);
    await page.getByText("JSON Schema").click();
    const schema = JSON.parse(await page.locator("details pre").innerText());
    expect(schema.properties.cents).toMatchObject({ type: "integer", exclusiveMinimum: 0 });
    const fires = await page
      .locator("table.list", { hasText: "weekly" })
      .locator("tbody td")
      .nth(3)
      .innerText();
    const expected = nextRuns("0 9 * * 1", "Europe/Paris", new Date());
    expect(expected).toHaveLength(3);
    // Monday 09:00 in Paris, whatever the offset of the season.
    expect(fires).toMatch(/^Mon \d{4}-\d\d-\d\d 09:00 GMT\+[12]\nMon .*\nMon .*$/);
    expect(fires).toContain(expected[0]!.toISOString().slice(0, 10));
  });

  it("Trigger validates against the schema as you edit and refuses an invalid input, publishing nothing", async () => {
    const page = await openPage($.browser, `${$.app.console}/jobs/greet`);
    const editor = page.getByLabel("Input (JSON)");
    // Pre-filled from the schema: every property, with the default where there is one.
    expect(JSON.parse(await editor.inputValue())).toEqual({ name: "x", times: 1 });
    const before = $.app.server.pendingCount();
    await editor.fill('{ "name": "", "times": 1.5 }');
    const issues = page.locator("#trigger-issues");
    await poll(() => issues.innerText()).toMatch(/name: Too small/);
    expect(await issues.innerText()).toMatch(/times: .*int/i);
    await editor.fill('{ "name": ');
    await page.getByRole("button", { name: "Trigger" }).click();
    await poll(() => issues.innerText()).toMatch(/not valid JSON/);
    expect(await editor.getAttribute("aria-invalid")).toBe("true");
    expect($.app.server.pendingCount()).toBe(before);
    const list = await $.app.client.logs({ filter: { url: `${$.app.baseUrl}/greet` } });
    expect(list.logs).toEqual([]);
  });

  it("Trigger publishes exactly what jobs.trigger publishes, and the job runs", async () => {
    const page = await openPage($.browser, `${$.app.console}/jobs/greet`);
    await page.getByLabel("Input (JSON)").fill('{ "name": "Ada" }');
    await page.getByRole("button", { name: "Trigger" }).click();
    const result = page.locator("#trigger-result a.id");
    await result.waitFor();
    const messageId = await result.innerText();
    await eventually(() => $.app.seen.successes.includes("Ada"));
    expect($.app.seen.greetings).toContain("Ada");

    // The same input and options through the Trigger form and through jobs.trigger, kept
    // pending by a delay so both can be read back from the engine.
    await page.getByLabel("Input (JSON)").fill('{ "name": "Grace" }');
    await page.getByLabel("Delay", { exact: true }).fill("1h");
    await page.getByLabel("Label", { exact: true }).fill("vip");
    await page.getByLabel("Headers").fill("X-Tenant: acme");
    await page.getByRole("button", { name: "Trigger" }).click();
    await page.locator("#trigger-result a.id", { hasNotText: messageId }).waitFor();
    const fromConsole = await page.locator("#trigger-result a.id").innerText();
    const fromCode = await $.app.jobs.trigger(
      "greet",
      { name: "Grace" },
      { delay: "1h", label: "vip", headers: { "X-Tenant": "acme" } },
    );
    const [a, b] = await Promise.all([fromConsole, fromCode].map((id) => $.app.client.messages.get(id)));
    const same = (m: Record<string, unknown>) => {
      const { messageId: _, createdAt: __, notBefore, ...rest } = m;
      return {
        ...rest,
        notBeforeInAnHour: Math.abs((notBefore as number) - Date.now() - 3_600_000) < 60_000,
      };
    };
    expect(same(a as never)).toEqual(same(b as never));
    expect(a!.header).toMatchObject({ "X-Tenant": ["acme"], "Jobstash-Label": ["vip"] });

    // The delayed message's page says when it runs.
    await page.locator("#trigger-result a.id").click();
    await page.getByText("Not before (UTC)").waitFor();
    expect(await page.locator('[data-state="CREATED"]').first().innerText()).toBe("pending");
    expect(pageErrors(page)).toEqual([]);
  });

  it("Trigger reports a bad option in trigger's words", async () => {
    const page = await openPage($.browser, `${$.app.console}/jobs/greet`);
    await page.getByLabel("Input (JSON)").fill('{ "name": "Bob" }');
    await page.getByLabel("Delay", { exact: true }).fill("soon");
    await page.getByRole("button", { name: "Trigger" }).click();
    await poll(() => page.locator("#trigger-issues").innerText()).toMatch(
      /trigger\("greet"\): delay invalid duration "soon"/,
    );
  });
});
