import { gzipSync } from "node:zlib";
import { Client } from "@upstash/qstash";
import { createJobstash, defineJob } from "jobstash";
import { createDevServer, DEV_USERS, VirtualClock } from "jobstash/dev-server";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const token = DEV_USERS.defaultUser.token;
const auth = { authorization: `Bearer ${token}` };

describe("the console beside QStash's API", () => {
  it("sends a browser opening / to the console, and answers API clients as before", async () => {
    const server = createDevServer();
    const browser = await server.app.request("/", { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(browser.status).toBe(302);
    expect(browser.headers.get("location")).toBe("/console/");
    const api = await server.app.request("/", { headers: auth });
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: "no such endpoint: GET /" });
    const other = await server.app.request("/v2/nothing", { headers: { ...auth, accept: "text/html" } });
    expect(await other.json()).toEqual({ error: "no such endpoint: GET /v2/nothing" });
    // Without a registry the console opens on the messages.
    expect((await server.app.request("/console/")).headers.get("location")).toBe("/console/messages");
    await server.close();
  });

  it("refuses a console form posted from another site", async () => {
    const server = createDevServer({ clock: new VirtualClock() });
    const { url } = await server.listen();
    const client = new Client({ baseUrl: url, token });
    const { messageId } = await client.publishJSON({ url: "http://127.0.0.1:9/x", body: {}, delay: 60 });
    const cancel = (headers: Record<string, string>) =>
      fetch(`${url}/console/messages/${messageId}/cancel`, { method: "POST", headers, redirect: "manual" });
    for (const headers of <Record<string, string>[]>[
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ]) {
      const r = await cancel(headers);
      expect(r.status).toBe(403);
      expect(await r.json()).toEqual({
        error: "console actions are accepted from the console's own pages only",
      });
    }
    expect((await client.messages.get(messageId)).messageId).toBe(messageId);
    const same = await cancel({ origin: url, "sec-fetch-site": "same-origin" });
    expect(same.status).toBe(303);
    await expect(client.messages.get(messageId)).rejects.toThrow(/not found/);
    await server.close();
  });

  it("serves its assets from the package, within the size budget, cached for good", async () => {
    const server = createDevServer();
    const page = await (await server.app.request("/console/messages")).text();
    const paths = [...page.matchAll(/(?:href|src)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(paths).toHaveLength(2);
    let gzipped = 0;
    for (const path of paths) {
      const r = await server.app.request(path);
      expect(r.status).toBe(200);
      expect(r.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      gzipped += gzipSync(Buffer.from(await r.arrayBuffer())).length;
    }
    // No CDN: nothing the page loads comes from elsewhere.
    expect(page).not.toMatch(/(?:href|src)="(?:https?:)?\/\//);
    expect(gzipped).toBeLessThan(150 * 1024);
    console.log(`console assets: ${gzipped} bytes gzipped`);
    await server.close();
  });

  it("shows why the registry is missing when it failed to load", async () => {
    const server = createDevServer({ console: { jobs: Promise.reject(new Error("config exploded")) } });
    expect((await server.app.request("/console/")).headers.get("location")).toBe("/console/jobs");
    const page = await (await server.app.request("/console/jobs")).text();
    expect(page).toContain("The registry could not be loaded: config exploded");
    await server.close();
  });
});

describe("engine.messages.list, the console's listing", () => {
  it("lists pending and final messages newest first, filtered, paged, with the total", async () => {
    const clock = new VirtualClock();
    const greet = defineJob({ id: "greet", input: z.object({ name: z.string() }), run: () => undefined });
    const jobs = createJobstash({ app: "list", jobs: [greet] });
    const server = createDevServer({
      clock,
      console: { jobs, env: { JOBSTASH_BASE_URL: "http://127.0.0.1:9/api" } },
    });
    const { url } = await server.listen();
    const client = new Client({ baseUrl: url, token });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await client.publishJSON({
        url: "http://127.0.0.1:9/api/greet",
        body: { i },
        delay: i < 4 ? 0 : 3600,
        retries: 0,
        label: i % 2 ? "odd" : "even",
      });
      ids.push(r.messageId);
    }
    await clock.advance(1000); // the first four are attempted, and fail (nothing listens on :9)
    await server.app.request(`/v2/messages/${ids[6]}`, { method: "DELETE", headers: auth });
    const page = async (query: string) => {
      const html = await (await server.app.request(`/console/messages${query}`)).text();
      const rows = [...html.matchAll(/<tr data-message="([^"]+)">[\s\S]*?data-state="([A-Z_]+)"/g)].map(
        (m) => [m[1], m[2]],
      );
      const next = /href="\/console\/messages\?([^"]*cursor=[^"]+)" rel="next"/
        .exec(html)?.[1]
        ?.replace(/&amp;/g, "&");
      const total = /<p class="summary">(\d+) message/.exec(html)?.[1];
      return { rows, next, total: Number(total) };
    };
    const all = await page("");
    expect(all.total).toBe(7);
    expect(all.rows).toEqual([
      [ids[6], "CANCELLED"],
      [ids[5], "CREATED"],
      [ids[4], "CREATED"],
      [ids[3], "FAILED"],
      [ids[2], "FAILED"],
      [ids[1], "FAILED"],
      [ids[0], "FAILED"],
    ]);
    const odd = await page("?label=odd&state=FAILED");
    expect(odd).toEqual({
      rows: [
        [ids[3], "FAILED"],
        [ids[1], "FAILED"],
      ],
      next: undefined,
      total: 2,
    });
    const byJob = await page("?job=greet&state=CREATED");
    expect(byJob.rows.map((r) => r[0])).toEqual([ids[5], ids[4]]);
    await server.close();
  });

  it("pages through the messages, 50 a page, without repeating or skipping one", async () => {
    const server = createDevServer({ clock: new VirtualClock() });
    const { url } = await server.listen();
    const client = new Client({ baseUrl: url, token });
    const ids = (
      await client.batchJSON(
        Array.from({ length: 120 }, (_, i) => ({ url: "http://127.0.0.1:9/x", body: { i }, delay: 60 })),
      )
    ).map((r) => r.messageId);
    const seen: string[] = [];
    let query = "";
    for (let i = 0; i < 5 && query !== undefined; i++) {
      const html = await (await server.app.request(`/console/messages${query}`)).text();
      seen.push(...[...html.matchAll(/<tr data-message="([^"]+)">/g)].map((m) => m[1]!));
      const next = /href="\/console\/messages(\?[^"]*cursor=[^"]+)" rel="next"/.exec(html)?.[1];
      query = next?.replace(/&amp;/g, "&") as string;
    }
    expect(seen).toEqual([...ids].reverse());
    await server.close();
  });
});
