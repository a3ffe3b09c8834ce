import { Client } from "@upstash/qstash";
import { DEV_USERS } from "jobstash/dev-server";
import { describe, expect, it } from "vitest";
import { consoleAppPerFile, eventually, openPage, pageErrors, poll } from "./harness.js";

const $ = consoleAppPerFile();

const SCHEDULE = "console-test.development.charge.weekly";

describe("the console's Schedules page", () => {
  it("shows each schedule's cron, zone, next fire times and last run; Pause, Resume and Run now", async () => {
    const page = await openPage($.browser, `${$.app.console}/schedules`);
    const row = page.locator(`tr[data-schedule="${SCHEDULE}"]`);
    expect(await row.innerText()).toMatch(
      /charge\s+0 9 \* \* 1\s+Europe\/Paris\s+Mon \S+ 09:00 GMT\+[12]\nMon .*\nMon .*\s+never\s+active/,
    );
    await row.getByRole("button", { name: "Pause" }).click();
    await poll(() => row.locator(".badge").last().innerText()).toBe("paused");
    expect((await $.app.client.schedules.get(SCHEDULE)).isPaused).toBe(true);
    await row.getByRole("button", { name: "Resume" }).click();
    await poll(() => row.locator(".badge").last().innerText()).toBe("active");
    expect((await $.app.client.schedules.get(SCHEDULE)).isPaused).toBe(false);

    await row.getByRole("button", { name: "Run now" }).click();
    await poll(() => row.locator("td").nth(5).innerText()).toMatch(/\d{4}-\d\d-\d\d .*\nmsg_\S+ success/);
    const schedule = await $.app.client.schedules.get(SCHEDULE);
    expect(Object.values(schedule.lastScheduleStates ?? {})).toEqual(["SUCCESS"]);
    // The next tick keeps its time.
    expect(schedule.nextScheduleTime).toBeGreaterThan(Date.now());
    expect(pageErrors(page)).toEqual([]);
  });
});

describe("the console's Queues and flow-control page", () => {
  it("shows a queue's parallelism, lag and in flight, and pauses and resumes it", async () => {
    const page = await openPage($.browser, `${$.app.console}/queues`);
    const row = page.locator('tr[data-queue="payments"]');
    await row.getByRole("button", { name: "Pause" }).click();
    await poll(() => row.locator(".badge").innerText()).toBe("paused");
    const id = await $.app.jobs.trigger("charge", { orderId: "queued", cents: 1 });
    await poll(() => row.innerText()).toMatch(/payments\s+1\s+1\s+1\s+0\s+paused/);
    await row.getByRole("button", { name: "Resume" }).click();
    await poll(() => row.innerText()).toMatch(/payments\s+1\s+0\s+0\s+0\s+running/);
    await eventually(
      async () => (await $.app.client.logs({ filter: { messageId: id, state: "DELIVERED" } })).logs.length,
    );
  });

  it("shows a flow-control key's limits and wait list, and pauses and resumes it", async () => {
    await $.app.jobs.trigger("charge", { orderId: "flow", cents: 1 });
    const page = await openPage($.browser, `${$.app.console}/queues`);
    const row = page.locator('tr[data-flow-key="psp"]');
    await poll(() => row.innerText()).toMatch(/psp\s+0 \/ 2\s+no limit\s+0\s+no\s+running/);
    await row.getByRole("button", { name: "Pause" }).click();
    await poll(() => row.locator(".badge").innerText()).toBe("paused");
    const key = await fetch(`${$.app.url}/v2/flowControl/psp`, {
      headers: { authorization: `Bearer ${DEV_USERS.defaultUser.token}` },
    }).then((r) => r.json());
    expect(key.isPaused).toBe(true);
    await row.getByRole("button", { name: "Resume" }).click();
    await poll(() => row.locator(".badge").innerText()).toBe("running");
  });
});

describe("the console's Events page", () => {
  it("streams the lifecycle events as they happen, filterable by event and job", async () => {
    const page = await openPage($.browser, `${$.app.console}/events`);
    await page.getByLabel("Event", { exact: true }).selectOption("DELIVERED");
    await page.getByLabel("Job").selectOption("flaky");
    await poll(() => page.url()).toMatch(/state=DELIVERED&job=flaky|job=flaky.*state=DELIVERED/);
    const id = await $.app.jobs.trigger("flaky", { attempts: 1 });
    const rows = page.locator("#events-list tbody tr");
    await poll(() => rows.first().innerText()).toMatch(new RegExp(`DELIVERED\\s+${id}\\s+flaky\\s+200`));
    expect(await rows.count()).toBe(1);
    expect(pageErrors(page)).toEqual([]);
  });
});

describe("the console as a dev user", () => {
  it("acts as the default user, and the switcher shows another user's world", async () => {
    const other = new Client({ baseUrl: $.app.url, token: DEV_USERS.testUser1.token });
    const theirs = await other.publishJSON({
      url: `${$.app.baseUrl}/greet`,
      body: { name: "t1" },
      delay: 3600,
    });
    const mine = await $.app.jobs.trigger("greet", { name: "mine" }, { delay: "1h" });
    const page = await openPage($.browser, `${$.app.console}/messages`);
    const ids = () =>
      page
        .locator("#messages-list tbody tr")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-message")));
    expect(await ids()).toContain(mine);
    expect(await ids()).not.toContain(theirs.messageId);
    await page.getByLabel("User").selectOption("testUser1");
    await page.getByRole("button", { name: "Switch" }).click();
    await page.locator("#live-status", { hasText: "Live" }).waitFor();
    expect(await ids()).toEqual([theirs.messageId]);
    // Live updates follow the user too.
    const next = await other.publishJSON({
      url: `${$.app.baseUrl}/greet`,
      body: { name: "t1b" },
      delay: 3600,
    });
    await poll(ids).toEqual([next.messageId, theirs.messageId]);
  });
});

describe("the console's accessibility", () => {
  it("works from the keyboard: skip link, navigation, and Trigger with Enter", async () => {
    const page = await openPage($.browser, `${$.app.console}/jobs/greet`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    await page.getByLabel("Input (JSON)").focus();
    await page.keyboard.press("Control+A");
    await page.keyboard.type('{ "name": "Keys" }');
    // Tab through the options to the button, and press it.
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press("Tab");
      if ((await page.evaluate(() => document.activeElement?.textContent)) === "Trigger") break;
    }
    await page.keyboard.press("Enter");
    await page.locator("#trigger-result a.id").waitFor();
    await eventually(() => $.app.seen.successes.includes("Keys"));
    // Every form control has a label.
    const unlabelled = await page
      .locator("input:not([type=hidden]), select, textarea")
      .evaluateAll((els) =>
        els.filter((el) => !(el as HTMLInputElement).labels?.length).map((el) => el.outerHTML),
      );
    expect(unlabelled).toEqual([]);
  });

  it("is readable in light and in dark mode", async () => {
    const colors = async (scheme: "light" | "dark") => {
      const page = await openPage($.browser, `${$.app.console}/messages`, { colorScheme: scheme });
      return page.evaluate(() => {
        const style = getComputedStyle(document.body);
        return { bg: style.backgroundColor, fg: style.color };
      });
    };
    const light = await colors("light");
    const dark = await colors("dark");
    expect(light).toEqual({ bg: "rgb(255, 255, 255)", fg: "rgb(29, 33, 37)" });
    expect(dark).toEqual({ bg: "rgb(21, 24, 28)", fg: "rgb(228, 231, 235)" });
  });
});
