// Takes the README's console screenshots (docs/console-*.png) from a small app with real jobs:
// `npx tsx test/console/screenshots.ts`. Not a test: run it again when the console's look changes.
import { launchBrowser } from "./browser.js";
import { eventually, startConsoleApp } from "./harness.js";

const app = await startConsoleApp();
const browser = await launchBrowser();
try {
  const { jobs, client } = app;
  for (const name of ["Ada", "Grace", "Alan"]) await jobs.trigger("greet", { name });
  await jobs.trigger("flaky", { attempts: 2 });
  await jobs.trigger("charge", { orderId: "o-1041", cents: 1250 });
  await jobs.trigger("charge", { orderId: "declined-1042", cents: 990 });
  await jobs.trigger("greet", { name: "Later" }, { delay: "1h", label: "digest" });
  await eventually(
    async () => (await client.dlq.listMessages()).messages.length === 1 && app.server.pendingCount() === 1,
  );
  const flaky = (await client.logs({ filter: { url: `${app.baseUrl}/flaky`, state: "DELIVERED" } })).logs[0]!
    .messageId;
  const dlqId = (await client.dlq.listMessages()).messages[0]!.dlqId;

  const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
  const shot = async (path: string, file: string, prepare?: () => Promise<void>) => {
    await page.goto(`${app.console}${path}`);
    await page
      .locator("#live-status", { hasText: "Live" })
      .waitFor({ timeout: 5000 })
      .catch(() => undefined);
    await prepare?.();
    await page.screenshot({ path: `docs/console-${file}.png` });
  };
  await shot("/messages", "messages");
  await shot(`/messages/${flaky}`, "message");
  await shot("/jobs/greet", "trigger", async () => {
    await page.getByLabel("Input (JSON)").fill('{ "name": "", "times": 2 }');
    await page.locator("#trigger-issues:not([hidden])").waitFor();
    await page.getByLabel("Input (JSON)").blur();
    await page.locator("#trigger").scrollIntoViewIfNeeded();
  });
  await shot("/dlq", "dlq", async () => {
    await page.locator(`li[data-dlq="${dlqId}"]`).getByText("Body", { exact: true }).click();
  });
  await shot("/schedules", "schedules");
  console.log("docs/console-{messages,message,trigger,dlq,schedules}.png written");
} finally {
  await browser.close();
  await app.close();
}
