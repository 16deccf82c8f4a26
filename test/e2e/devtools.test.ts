import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromiumMissing, launchBrowser, type Browser } from "./helpers/browser.ts";
import { startInboxServer, type InboxServer } from "./helpers/inbox.ts";

/**
 * Developer tools where a person looks: injected faults on every view with a one-click off,
 * and signature doctor findings beside a refused delivery. Headless Chromium against the
 * real server on a loopback port.
 */

const V2 = "/api/partner/v2";
const SHOTS = join(process.cwd(), "test-results");
const UI_TIMEOUT = 10_000;

describe("inbox developer tools (headless Chromium)", { skip: chromiumMissing }, () => {
  let server: InboxServer;
  let browser: Browser;

  before(async () => {
    server = await startInboxServer();
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows an injected fault live on every view, counts its hits, and turns it off in one click", async () => {
    const page = await browser.page();
    await page.goto(server.signInUrl);
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: UI_TIMEOUT });
    const bar = page.getByRole("region", { name: "Injected faults" });
    assert.equal(await bar.count(), 0, "no bar while nothing is injected");

    const created = await server.request("POST", "/openlinq/v1/faults", {
      body: { method: "GET", path: "/api/partner/v2/phone_numbers", status: 503, count: 5 },
    });
    assert.equal(created.status, 201, created.raw);
    await bar.getByText("GET /api/partner/v2/phone_numbers").waitFor({ timeout: UI_TIMEOUT });
    await bar.getByText("5 of 5 left").waitFor({ timeout: UI_TIMEOUT });

    assert.equal((await server.request("GET", `${V2}/phone_numbers`)).status, 503);
    await bar.getByText("4 of 5 left").waitFor({ timeout: UI_TIMEOUT });

    await page.evaluate(() => (location.hash = "#/webhooks"));
    await bar.getByText("hit 1×").waitFor({ timeout: UI_TIMEOUT });
    await page.screenshot({ path: join(SHOTS, "devtools-fault-bar.png") });

    await bar.getByRole("button", { name: `Turn fault ${created.body.fault.id} off` }).click();
    await bar.waitFor({ state: "detached", timeout: UI_TIMEOUT });
    assert.equal((await server.request("GET", `${V2}/phone_numbers`)).status, 200);
    assert.deepEqual((await server.request("GET", "/openlinq/v1/faults")).body.faults, []);
  });
});
