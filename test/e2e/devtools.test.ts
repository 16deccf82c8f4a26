import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createHmac } from "node:crypto";
import { OUR_NUMBER } from "../helpers/app.ts";
import { startReceiver } from "../helpers/receiver.ts";
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

  it("shows armed delivery scenarios with a one-click off, and marks the events an applied one shaped", async () => {
    const page = await browser.page();
    await page.goto(server.signInUrl);
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: UI_TIMEOUT });
    const bar = page.getByRole("region", { name: "Armed delivery scenarios" });
    assert.equal(await bar.count(), 0, "no bar while nothing is armed");

    const chat = await server.request("POST", `${V2}/chats`, {
      body: { send_from: OUR_NUMBER, phone_numbers: ["+15557770901"], message: { text: "scenario chat" } },
    });
    assert.ok(chat.status === 201 || chat.status === 200, chat.raw);
    const chatId = chat.body.data.id;
    const failing = await server.request("POST", "/openlinq/v1/scenarios", { body: { kind: "message_failed", chat_id: chatId, code: 4005 } });
    assert.equal(failing.status, 201, failing.raw);
    await bar.getByText("message_failed (code 4005)").waitFor({ timeout: UI_TIMEOUT });
    await bar.getByRole("button", { name: `Turn scenario ${failing.body.scenario.id} off` }).click();
    await bar.waitFor({ state: "detached", timeout: UI_TIMEOUT });

    const receiver = await startReceiver();
    try {
      const subscribed = await server.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_subscription: { webhook_url: `${receiver.url}/hooks`, version: 2, events: ["message.received"] } },
      });
      assert.equal(subscribed.status, 201, subscribed.raw);
      const twice = await server.request("POST", "/openlinq/v1/scenarios", { body: { kind: "duplicate_delivery", chat_id: chatId } });
      await bar.getByText("duplicate_delivery").waitFor({ timeout: UI_TIMEOUT });
      const inbound = await server.request("POST", "/openlinq/v1/simulate/inbound_message", {
        body: { from: "+15557770901", chat_id: chatId, text: "say it twice" },
      });
      assert.equal(inbound.status, 201, inbound.raw);
      await bar.waitFor({ state: "detached", timeout: UI_TIMEOUT });
      await receiver.waitFor((requests) => requests.length === 2);
      await page.evaluate(() => (location.hash = "#/webhooks"));
      await page.getByText(`scenario #${twice.body.scenario.id}`).first().waitFor({ timeout: UI_TIMEOUT });
      await page.screenshot({ path: join(SHOTS, "devtools-scenarios.png") });
    } finally {
      await receiver.close();
    }
  });

  it("a refused delivery shows the doctor's likely causes, and pasting the receiver's computation names its mistake", async () => {
    const refusing = await startReceiver({ status: 401, body: '{"error":"bad signature"}' });
    const secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    try {
      const sub = await server.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_url: `${refusing.url}/hook`, version: 2, events: ["message.sent"], secret },
      });
      assert.equal(sub.status, 201, sub.raw);
      const created = await server.request("POST", `${V2}/chats`, {
        body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15551230077"] }, message: { text: "Doctor test" } },
      });
      assert.equal(created.status, 200, created.raw);
      await refusing.waitFor((requests) => requests.some((r) => r.answeredWith === 401));
      const delivered = refusing.requests[0]!;
      const eventId = String(delivered.headers["webhook-id"]);

      const page = await browser.page();
      await page.goto(server.signInUrl);
      await page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: UI_TIMEOUT });
      await page.evaluate((id) => (location.hash = `#/webhooks/events/${id}`), eventId);
      const doctor = page.getByRole("region", { name: "Signature doctor" });
      await doctor.getByText("correctly signed delivery").waitFor({ timeout: UI_TIMEOUT });
      await doctor.getByText("re-serialised body").waitFor({ timeout: UI_TIMEOUT });

      // The receiver keyed V2's HMAC with the secret minus whsec_.
      const wrong = createHmac("sha256", secret.slice(6)).update(delivered.body).digest("hex");
      await doctor.getByPlaceholder("Signature your receiver computed").fill(wrong);
      await doctor.getByRole("button", { name: "Check" }).click();
      await doctor.getByRole("list", { name: "Doctor findings" }).getByText("without whsec_").waitFor({ timeout: UI_TIMEOUT });
      await page.screenshot({ path: join(SHOTS, "devtools-signature-doctor.png"), fullPage: true });
      await server.request("DELETE", `${V2}/webhook_subscriptions/${sub.body.webhook_subscription.id}`);
      await page.close();
    } finally {
      await refusing.close();
    }
  });
});
