import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import LinqAPIV3 from "@linqapp/sdk";
import type { Locator, Page } from "playwright-core";
import { OUR_NUMBER } from "../helpers/app.ts";
import { startReceiver, type ReceivedRequest, type Receiver } from "../helpers/receiver.ts";
import { chromiumMissing, launchBrowser, PHONE, type Browser } from "./helpers/browser.ts";
import { startInboxServer, type InboxServer } from "./helpers/inbox.ts";

/**
 * The inbox as a person uses it: headless Chromium against the real server on a loopback
 * port, a real webhook receiver, and nothing of ours faked. Screenshots go to
 * test-results/ (ignored by git) for a person to look at.
 */

const V2 = "/api/partner/v2";
const SHOTS = join(process.cwd(), "test-results");
/** Waits in the browser are for the server and the page, never sleeps. */
const UI_TIMEOUT = 10_000;

/** HMAC-SHA256 of the raw body with the secret, as a receiver checks it (Linq's V2 webhook signatures). */
function signedWith(request: ReceivedRequest, secret: string): boolean {
  const header = String(request.headers["x-webhook-signature"] ?? "");
  if (!header.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", secret).update(request.body).digest();
  const given = Buffer.from(header.slice(7), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const envelope = (request: ReceivedRequest) => JSON.parse(request.body) as { event_type: string; data: any };
const ofType = (receiver: Receiver, type: string) => receiver.requests.filter((r) => envelope(r).event_type === type);

async function subscribe(server: InboxServer, url: string, events: string[], secret = "inbox-e2e-secret") {
  const res = await server.request("POST", `${V2}/webhook_subscriptions`, {
    body: { webhook_url: url, version: 2, events, secret },
  });
  assert.equal(res.status, 201, res.raw);
  return res.body.webhook_subscription.id as number;
}

async function createChat(server: InboxServer, recipients: string[], text: string, displayName?: string) {
  const res = await server.request("POST", `${V2}/chats`, {
    body: { send_from: OUR_NUMBER, chat: { phone_numbers: recipients, ...(displayName ? { display_name: displayName } : {}) }, message: { text } },
  });
  assert.equal(res.status, 200, res.raw);
  return res.body.data.chat.id as number;
}

/** Marks the page so a later check can tell it was never reloaded. */
async function markPage(page: Page) {
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
}
async function assertNotReloaded(page: Page) {
  assert.equal(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument), true);
}

/** Opens the inbox signed in through the banner's link, then goes to `hash` (e.g. `#/chats/3`). */
async function openInbox(page: Page, server: InboxServer, hash = "#/chats") {
  await page.goto(server.signInUrl);
  await page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: UI_TIMEOUT });
  if (hash !== "#/chats") await page.evaluate((target) => (location.hash = target), hash);
}

const bubble = (page: Page, text: string) => page.locator(".bubble-text", { hasText: text });

describe("web inbox (headless Chromium)", { skip: chromiumMissing }, () => {
  let server: InboxServer;
  let browser: Browser;
  let receiver: Receiver;

  before(async () => {
    // Retries far apart: the failing-receiver test recovers by hand (Resend), not by timer.
    server = await startInboxServer({ config: { WEBHOOK_RETRY_SCHEDULE: "1h" } });
    receiver = await startReceiver();
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await receiver?.close();
    await server?.close();
  });

  it("signs in from the banner link and shows messages sent through the API without a reload", async () => {
    const page = await browser.page();
    await page.goto(server.signInUrl);
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: UI_TIMEOUT });
    assert.equal(new URL(page.url()).hash, "#/chats", "the token leaves the address bar");
    await markPage(page);

    const chatId = await createChat(server, ["+15551230001"], "Your order has shipped");
    const row = page.locator(`[data-chat-id="${chatId}"]`);
    await row.waitFor({ timeout: UI_TIMEOUT });
    assert.match(await row.innerText(), /Your order has shipped/);
    await row.click();
    await bubble(page, "Your order has shipped").waitFor({ timeout: UI_TIMEOUT });

    const sent = await server.request("POST", `${V2}/chats/${chatId}/chat_messages`, { body: { text: "It arrives Tuesday" } });
    assert.equal(sent.status, 201, sent.raw);
    const live = bubble(page, "It arrives Tuesday");
    await live.waitFor({ timeout: UI_TIMEOUT });
    assert.match((await live.locator("xpath=ancestor::div[contains(@class,'row')][1]").getAttribute("class")) ?? "", /row-out/);
    await assertNotReloaded(page);
    await page.close();
  });

  it("refuses a token that is not valid and keeps the sign-in form", async () => {
    const page = await browser.context.newPage();
    await browser.context.clearCookies();
    await page.goto(`${server.baseUrl}/#token=not-a-real-token`);
    await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByLabel("Integration token").fill(server.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Chats" }).waitFor({ timeout: UI_TIMEOUT });
    await page.close();
  });

  it("a reply written as the recipient reaches the receiver as a signed message.received", async () => {
    const secret = "reply-secret-123";
    const subscriptionId = await subscribe(server, `${receiver.url}/reply`, ["message.received"], secret);
    const chatId = await createChat(server, ["+15551230002"], "Can you confirm your appointment?");
    const page = await browser.page();
    await openInbox(page, server, `#/chats/${chatId}`);
    const composer = page.getByRole("textbox", { name: /Message as/ });
    await composer.fill("Yes, see you at 10");
    await composer.press("Enter");

    await bubble(page, "Yes, see you at 10").waitFor({ timeout: UI_TIMEOUT });
    await receiver.waitFor(() => ofType(receiver, "message.received").some((r) => envelope(r).data.text === "Yes, see you at 10"));
    const request = ofType(receiver, "message.received").find((r) => envelope(r).data.text === "Yes, see you at 10")!;
    assert.ok(signedWith(request, secret), "X-Webhook-Signature is the HMAC of the body with the secret");
    assert.equal(envelope(request).data.from_phone, "+15551230002");
    assert.equal(envelope(request).data.chat_id, String(chatId));
    await server.request("DELETE", `${V2}/webhook_subscriptions/${subscriptionId}`);
    await page.close();
  });

  it("a tapback in the thread arrives as reaction.received and shows on the bubble", async () => {
    const subscriptionId = await subscribe(server, `${receiver.url}/tapback`, ["reaction.received"]);
    const chatId = await createChat(server, ["+15551230003"], "Lunch at noon?");
    const page = await browser.page();
    await openInbox(page, server, `#/chats/${chatId}`);
    const target = page.locator(".row", { has: bubble(page, "Lunch at noon?") });
    await target.hover();
    await target.getByRole("button", { name: /React to this message/ }).click();
    await page.getByRole("menuitem", { name: "Love" }).click();

    await target.locator('.tapback[data-reaction="love"]').waitFor({ timeout: UI_TIMEOUT });
    await receiver.waitFor(() => ofType(receiver, "reaction.received").length > 0);
    const data = envelope(ofType(receiver, "reaction.received")[0]!).data;
    assert.equal(data.reaction, "love");
    assert.equal(data.associated_message.text, "Lunch at noon?");
    assert.equal(data.chat_handle.identifier, "+15551230003");
    await server.request("DELETE", `${V2}/webhook_subscriptions/${subscriptionId}`);
    await page.close();
  });

  it("tapbacks are drawn icons (no emoji font needed); the picker spares the next bubble and closes on Escape or a click outside", async () => {
    const texts = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima", "Mike", "November"].map(
      (word) => `${word} line`,
    );
    const chatId = await createChat(server, ["+15551230013"], texts[0]!);
    for (const text of texts.slice(1)) {
      const sent = await server.request("POST", `${V2}/chats/${chatId}/chat_messages`, { body: { text } });
      assert.equal(sent.status, 201, sent.raw);
    }
    const listed = await server.request("GET", `${V2}/chats/${chatId}/chat_messages`);
    const ids = (listed.body.data as { id: number }[]).map((m) => m.id);
    // Stock Linux Chromium has no colour emoji font: these three were empty boxes as emoji.
    for (const [index, type] of (["like", "dislike", "question"] as const).entries()) {
      const reacted = await server.request("POST", "/openlinq/v1/simulate/reaction", {
        body: { from: "+15551230013", chat_message_id: ids[ids.length - 1 - index], type, operation: "add" },
      });
      assert.equal(reacted.status, 201, reacted.raw);
    }
    // Short enough that the thread scrolls, so a bubble can sit at the top edge of the list.
    const page = await browser.page({ width: 1100, height: 560 });
    await openInbox(page, server, `#/chats/${chatId}`);
    await page.locator('.tapback[data-reaction="question"]').waitFor({ timeout: UI_TIMEOUT });

    const emoji = /\p{Extended_Pictographic}/u;
    for (const type of ["like", "dislike", "question"]) {
      const tapback = page.locator(`.tapback[data-reaction="${type}"]`);
      assert.equal(await tapback.locator("svg").count(), 1, `the ${type} tapback is an inline SVG`);
      assert.doesNotMatch(await tapback.innerText(), emoji, `the ${type} tapback has no emoji text`);
      const box = await tapback.locator("svg").boundingBox();
      assert.ok(box && box.width > 0 && box.height > 0, `the ${type} icon has a size`);
    }
    await page.screenshot({ path: join(SHOTS, "inbox-tapbacks.png") });

    const rowOf = (text: string) => page.locator(".row", { has: bubble(page, text) });
    const picker = page.getByRole("menu", { name: /Tapback as/ });
    const messages = (await page.locator(".messages").boundingBox())!;
    const overlaps = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    // Mid-thread (the picker opens above) and at the top edge of the list (no room above).
    for (const [text, next, atTop] of [
      ["Kilo line", "Lima line", false],
      ["Delta line", "Echo line", true],
    ] as const) {
      const row = rowOf(text);
      if (atTop) {
        await row.evaluate((el) => el.scrollIntoView({ block: "start" }));
        const rowBox = (await row.boundingBox())!;
        assert.ok(rowBox.y - messages.y < 20, "the row is at the top edge of the list");
      }
      await row.hover();
      await row.getByRole("button", { name: /React to this message/ }).click();
      await picker.waitFor({ timeout: UI_TIMEOUT });
      assert.equal(await picker.locator("svg").count(), 6, "the picker draws its six tapbacks as SVG");
      assert.doesNotMatch(await picker.innerText(), emoji);
      const pickerBox = (await picker.boundingBox())!;
      const nextBox = (await rowOf(next).locator(".bubble").boundingBox())!;
      assert.ok(!overlaps(pickerBox, nextBox), `the picker of "${text}" does not cover "${next}"`);
      assert.ok(pickerBox.y >= messages.y - 1, `the picker of "${text}" is not cut off by the top of the list`);
      await page.screenshot({ path: join(SHOTS, `inbox-tapback-picker-${atTop ? "top" : "middle"}.png`) });

      await page.keyboard.press("Escape");
      await picker.waitFor({ state: "detached", timeout: UI_TIMEOUT });
    }

    // A click outside the message list closes it too (the thread's header here).
    const row = rowOf("November line");
    await row.hover();
    await row.getByRole("button", { name: /React to this message/ }).click();
    await picker.waitFor({ timeout: UI_TIMEOUT });
    await page.locator(".thread-head h2").click();
    await picker.waitFor({ state: "detached", timeout: UI_TIMEOUT });
    await page.close();
  });

  it("typing shows live on both sides", async () => {
    const chatId = await createChat(server, ["+15551230004"], "Are you there?");
    const page = await browser.page();
    await openInbox(page, server, `#/chats/${chatId}`);
    await bubble(page, "Are you there?").waitFor({ timeout: UI_TIMEOUT });

    // Ours, through the API: the dots show on our side of the thread.
    const started = await server.request("POST", `${V2}/chats/${chatId}/start_typing`);
    assert.equal(started.status, 201, started.raw);
    await page.getByLabel("You are typing").waitFor({ timeout: UI_TIMEOUT });

    // Theirs, from the inbox: the simulator starts the recipient's indicator.
    await page.getByRole("button", { name: "Start typing" }).click();
    await page.getByLabel(/\+1 \(555\) 123-0004 is typing/).waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole("button", { name: "Stop typing" }).click();
    await page.getByLabel(/\+1 \(555\) 123-0004 is typing/).waitFor({ state: "detached", timeout: UI_TIMEOUT });
    await page.close();
  });

  it("a failing receiver shows the failed attempt, and Resend succeeds once it recovers", async () => {
    const failing = await startReceiver({ status: 500, body: "receiver down" });
    try {
      const subscriptionId = await subscribe(server, `${failing.url}/flaky`, ["message.sent"]);
      const chatId = await createChat(server, ["+15551230005"], "Flaky receiver test");
      await failing.waitFor((requests) => requests.some((r) => r.answeredWith === 500));

      const page = await browser.page();
      await openInbox(page, server, `#/webhooks`);
      await page.getByLabel("Chat id").fill(String(chatId));
      await page.getByLabel("Event type").selectOption("message.sent");
      const row = page.locator(".event-row").first();
      await row.locator(".badge", { hasText: "Retrying" }).waitFor({ timeout: UI_TIMEOUT });
      assert.match((await row.getAttribute("class")) ?? "", /state-row-retrying/);
      await row.click();

      const delivery = page.locator(".delivery", { hasText: `${failing.url}/flaky` });
      await delivery.locator(".attempt", { hasText: "HTTP 500" }).waitFor({ timeout: UI_TIMEOUT });
      assert.match(await delivery.innerText(), /receiver down/, "the response body is shown");
      await page.screenshot({ path: join(SHOTS, "inbox-failed-delivery.png"), fullPage: true });

      failing.answer({ status: 200, body: "ok" });
      await page.getByRole("button", { name: "Resend", exact: true }).click();
      await delivery.locator(".attempt", { hasText: "HTTP 200" }).waitFor({ timeout: UI_TIMEOUT });
      await delivery.locator(".badge", { hasText: "Delivered" }).first().waitFor({ timeout: UI_TIMEOUT });
      assert.equal(failing.requests.filter((r) => r.answeredWith === 200).length, 1);
      await server.request("DELETE", `${V2}/webhook_subscriptions/${subscriptionId}`);
      await page.close();
    } finally {
      await failing.close();
    }
  });

  it("manages a subscription: the secret shown once, pause, recover, delete", async () => {
    const page = await browser.page();
    page.on("dialog", (dialog) => void dialog.accept());
    await openInbox(page, server, "#/webhooks");
    await page.getByRole("button", { name: "New subscription" }).click();
    await page.getByLabel("Webhook URL").fill(`${receiver.url}/managed`);
    await page.getByRole("button", { name: "Create subscription" }).click();
    const secret = await page.locator(".secret-once .secret").innerText({ timeout: UI_TIMEOUT });
    assert.match(secret, /^whsec_/);
    const card = page.locator(".subscription", { hasText: `${receiver.url}/managed` });
    await card.waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole("button", { name: "I saved it" }).click();
    assert.equal(await page.locator(".secret-once").count(), 0, "the secret is not shown again");

    const listed = async () =>
      (await server.request("GET", `${V2}/webhook_subscriptions`)).body.webhook_subscriptions.find(
        (s: { webhook_url: string }) => s.webhook_url === `${receiver.url}/managed`,
      );
    assert.equal((await listed()).events.length, 14, "all event types by default");
    await pauseResumeRecoverDelete(card, async () => assert.equal((await listed()).active, false));
    assert.equal(await listed(), undefined);
    await page.close();
  });

  it("lists a V3 subscription next to the V2 ones: pause, recover, delete", async () => {
    const v3 = new LinqAPIV3({ apiKey: server.token, baseURL: `${server.baseUrl}/api/partner`, maxRetries: 0 });
    const created = await v3.webhookSubscriptions.create({ target_url: `${receiver.url}/v3-managed`, subscribed_events: ["message.sent"] });
    const page = await browser.page();
    page.on("dialog", (dialog) => void dialog.accept());
    await openInbox(page, server, "#/webhooks");
    const card = page.getByRole("region", { name: "V3 subscriptions" }).locator(".subscription", { hasText: `${receiver.url}/v3-managed` });
    await card.waitFor({ timeout: UI_TIMEOUT });
    assert.match(await card.innerText(), /message\.sent/);

    await pauseResumeRecoverDelete(card, async () => assert.equal((await v3.webhookSubscriptions.retrieve(created.id)).is_active, false));
    assert.deepEqual((await v3.webhookSubscriptions.list()).subscriptions, []);
    await page.close();
  });

  it("creates and edits a V3 subscription: secret once, V3 errors shown, deliveries reach the receiver", async () => {
    const v3 = new LinqAPIV3({ apiKey: server.token, baseURL: `${server.baseUrl}/api/partner`, maxRetries: 0 });
    const target = `${receiver.url}/v3-inbox`;
    const page = await browser.page();
    page.on("dialog", (dialog) => void dialog.accept());
    await openInbox(page, server, "#/webhooks");
    const section = page.getByRole("region", { name: "V3 subscriptions" });
    const fillForm = async (form: Locator, version: string, events: string[]) => {
      await form.getByLabel("Target URL").fill(target);
      await form.getByLabel("Payload version").selectOption(version);
      await form.getByRole("button", { name: "none" }).click();
      for (const type of events) await form.getByLabel(type, { exact: true }).check();
    };
    await section.getByRole("button", { name: "New V3 subscription" }).click();
    const form = section.locator(".subscription-form");
    await fillForm(form, "2025-01-01", ["message.sent"]);
    await form.getByLabel(OUR_NUMBER, { exact: true }).check();
    await form.getByRole("button", { name: "Create V3 subscription" }).click();
    const secret = await section.locator(".secret-once .secret").innerText({ timeout: UI_TIMEOUT });
    assert.match(secret, /^whsec_/);
    const card = section.locator(".subscription", { hasText: target });
    await card.waitFor({ timeout: UI_TIMEOUT });
    await section.getByRole("button", { name: "I saved it" }).click();
    const [created] = (await v3.webhookSubscriptions.list()).subscriptions.filter((s) => s.target_url.startsWith(target));
    assert.equal(created?.target_url, `${target}?version=2025-01-01`);
    assert.deepEqual(created?.subscribed_events, ["message.sent"]);
    assert.deepEqual(created?.phone_numbers, [OUR_NUMBER]);

    // The same target again: the V3 API's refusal (409, code 2015) is shown in the form.
    await section.getByRole("button", { name: "New V3 subscription" }).click();
    await fillForm(form, "2025-01-01", ["message.read"]);
    await form.getByRole("button", { name: "Create V3 subscription" }).click();
    await form.getByRole("alert").filter({ hasText: "code 2015" }).waitFor({ timeout: UI_TIMEOUT });
    await form.getByRole("button", { name: "Cancel" }).click();

    // Edit: the default payload version, one more event, every line.
    await card.getByRole("button", { name: "Edit" }).click();
    const editForm = card.locator(".subscription-form");
    assert.equal(await editForm.getByLabel("Payload version").inputValue(), "2025-01-01");
    await editForm.getByLabel("Payload version").selectOption("");
    await editForm.getByLabel("message.delivered", { exact: true }).check();
    await editForm.getByLabel(OUR_NUMBER, { exact: true }).uncheck();
    await editForm.getByRole("button", { name: "Save" }).click();
    await card.getByText("2026-02-03 (default)").waitFor({ timeout: UI_TIMEOUT });
    const edited = await v3.webhookSubscriptions.retrieve(created!.id);
    assert.equal(edited.target_url, target);
    assert.deepEqual(edited.subscribed_events, ["message.sent", "message.delivered"]);
    assert.equal(edited.phone_numbers, null);
    await page.screenshot({ path: join(SHOTS, "inbox-v3-subscription.png"), fullPage: true });

    // A message now reaches the receiver in the edited subscription's payload version, verifiably signed.
    await createChat(server, ["+15551230077"], "V3 hooks from the inbox");
    await receiver.waitFor((rs) => rs.some((r) => r.path === "/v3-inbox"));
    const request = receiver.requests.find((r) => r.path === "/v3-inbox")!;
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
    const event = v3.webhooks.unwrap(request.body, { headers, key: secret }) as { event_type: string; webhook_version: string };
    assert.equal(event.event_type, "message.sent");
    assert.equal(event.webhook_version, "2026-02-03");
    await v3.webhookSubscriptions.delete(created!.id);
    await page.close();
  });

  it("starts a new inbound chat from a new number, with an attachment", async () => {
    const page = await browser.page();
    await openInbox(page, server, `#/chats`);
    await page.getByRole("button", { name: "New inbound chat" }).click();
    await page.getByLabel("From (their number)").fill("+15551230006");
    await page.getByLabel("Message").fill("Hi, I found your number on the website");
    await page.getByLabel("Attachment (optional)").setInputFiles({
      name: "photo.jpg",
      mimeType: "image/jpeg",
      buffer: readFileSync(join(process.cwd(), "test/fixtures/pixel.jpg")),
    });
    await page.getByRole("button", { name: "Send to us" }).click();

    await bubble(page, "Hi, I found your number on the website").waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.attachment-image img[alt="photo.jpg"]').waitFor({ timeout: UI_TIMEOUT });
    assert.match(new URL(page.url()).hash, /^#\/chats\/\d+$/, "the new chat opens");
    const row = page.locator(".chat-row.selected");
    assert.match(await row.innerText(), /\+1 \(555\) 123-0006/);
    await page.close();
  });

  it("adds and removes a group participant through the simulator", async () => {
    const subscriptionId = await subscribe(server, `${receiver.url}/members`, ["participant.added", "participant.removed"]);
    const chatId = await createChat(server, ["+15551230007", "+15551230008"], "Welcome, team", "Project team");
    const page = await browser.page();
    await openInbox(page, server, `#/chats/${chatId}`);
    await page.getByRole("button", { name: "Recipient" }).click();
    await page.getByLabel("Number to add").fill("+15551230009");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.locator(".member-list li", { hasText: "+1 (555) 123-0009" }).waitFor({ timeout: UI_TIMEOUT });
    await receiver.waitFor(() => ofType(receiver, "participant.added").length > 0);

    await page.locator(".member-list li", { hasText: "+1 (555) 123-0007" }).getByRole("button", { name: "Remove" }).click();
    await page.locator(".member-list li.left", { hasText: "+1 (555) 123-0007" }).waitFor({ timeout: UI_TIMEOUT });
    await receiver.waitFor(() => ofType(receiver, "participant.removed").length > 0);
    await server.request("DELETE", `${V2}/webhook_subscriptions/${subscriptionId}`);
    await page.close();
  });

  it("a recipient made unreachable in its profile shows our next message as not delivered", async () => {
    const chatId = await createChat(server, ["+15551230010"], "First try");
    const page = await browser.page();
    await openInbox(page, server, `#/chats/${chatId}`);
    await page.getByRole("button", { name: "Recipient" }).click();
    const reachable = page.getByLabel(/Reachable/);
    await reachable.waitFor({ timeout: UI_TIMEOUT });
    await reachable.uncheck();
    await page.getByRole("button", { name: "Save profile" }).click();
    await page.getByRole("status").filter({ hasText: "Profile saved" }).waitFor({ timeout: UI_TIMEOUT });

    await server.request("POST", `${V2}/chats/${chatId}/chat_messages`, { body: { text: "Second try" } });
    const row = page.locator(".row", { has: bubble(page, "Second try") });
    await row.locator(".status-line", { hasText: "Not delivered" }).waitFor({ timeout: UI_TIMEOUT });
    await page.close();
  });

  it("searches chats by name, number and message text", async () => {
    await createChat(server, ["+15551230011"], "Invoice 4417 is ready", "Billing desk");
    const page = await browser.page();
    await openInbox(page, server, `#/chats`);
    const search = page.getByLabel("Search chats");
    for (const query of ["billing", "555-123-0011", "invoice 4417"]) {
      await search.fill(query);
      await page.waitForFunction(
        () => [...document.querySelectorAll(".chat-row .chat-name")].map((e) => e.textContent).join("|") === "Billing desk",
        undefined,
        { timeout: UI_TIMEOUT },
      );
    }
    await page.close();
  });

  it("a long thread opens at its newest message and draws every older one, in order", async () => {
    const count = 450;
    const chatId = await createChat(server, ["+15551230014"], "Long thread 1");
    for (let i = 2; i <= count; i++) {
      const res = await server.request("POST", `${V2}/chats/${chatId}/chat_messages`, { body: { text: `Long thread ${i}` } });
      assert.equal(res.status, 201, res.raw);
    }
    const page = await browser.page();
    await openInbox(page, server, `#/chats/${chatId}`);
    const newest = bubble(page, `Long thread ${count}`);
    await newest.waitFor({ timeout: UI_TIMEOUT });
    await page.waitForFunction((n) => document.querySelectorAll(".messages .row").length === n, count, { timeout: UI_TIMEOUT });
    // textContent: rows far off screen are not rendered (content-visibility), so they have no innerText.
    const texts = await page.locator(".messages .bubble-text").evaluateAll((els) => els.map((el) => el.textContent));
    assert.deepEqual(texts, Array.from({ length: count }, (_, i) => `Long thread ${i + 1}`));
    assert.ok(await newest.isVisible(), "still scrolled to the newest message after the older ones were drawn");
    const atBottom = await page.locator(".messages").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 80);
    assert.ok(atBottom);
    await page.close();
  });

  it("at phone width shows the list, then the thread alone", async () => {
    const chatId = await createChat(server, ["+15551230012", "+15551230013"], "Phone-width check 📱", "Weekend plans");
    await server.request("POST", "/openlinq/v1/simulate/inbound_message", {
      body: { from: "+15551230012", chat_id: chatId, text: "Saturday works for me!" },
    });
    const page = await browser.page(PHONE);
    await openInbox(page, server, `#/chats`);
    await page.locator(`[data-chat-id="${chatId}"]`).waitFor({ timeout: UI_TIMEOUT });
    await page.screenshot({ path: join(SHOTS, "inbox-phone-list.png") });
    await page.locator(`[data-chat-id="${chatId}"]`).click();
    await bubble(page, "Saturday works for me!").waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await page.locator(".sidebar").isVisible(), false, "the list gives way to the thread");
    assert.equal(await page.getByRole("link", { name: "Back to chats" }).isVisible(), true);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `no sideways scrolling (page is ${width}px wide)`);
    await page.screenshot({ path: join(SHOTS, "inbox-phone-thread.png") });
    await page.close();
  });
});

describe("web inbox live stream across a server restart", { skip: chromiumMissing }, () => {
  it("reconnects by itself and shows what happens after the restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "openlinq-restart-"));
    const browser = await launchBrowser();
    let server = await startInboxServer({ config: { DATA_DIR: dataDir } });
    try {
      const port = new URL(server.baseUrl).port;
      const chatId = await createChat(server, ["+15551239999"], "Before the restart");
      const page = await browser.page();
      await page.goto(server.signInUrl);
      await page.locator(`[data-chat-id="${chatId}"]`).click();
      await bubble(page, "Before the restart").waitFor({ timeout: UI_TIMEOUT });
      await markPage(page);

      await server.close();
      await page.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor({ timeout: UI_TIMEOUT });
      server = await startInboxServer({ config: { DATA_DIR: dataDir, PORT: port } });
      await page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: UI_TIMEOUT });

      await server.request("POST", `${V2}/chats/${chatId}/chat_messages`, { body: { text: "After the restart" } });
      await bubble(page, "After the restart").waitFor({ timeout: UI_TIMEOUT });
      await assertNotReloaded(page);
    } finally {
      await browser.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** Drives a subscription card through pause (checked by `checkPaused`), resume, recover and delete. */
async function pauseResumeRecoverDelete(card: Locator, checkPaused: () => Promise<void>): Promise<void> {
  await card.getByRole("button", { name: "Pause" }).click();
  await card.locator(".badge", { hasText: "Paused" }).waitFor({ timeout: UI_TIMEOUT });
  await checkPaused();
  await card.getByRole("button", { name: "Resume" }).click();
  await card.locator(".badge", { hasText: "Active" }).waitFor({ timeout: UI_TIMEOUT });

  await card.getByRole("button", { name: "Recover…" }).click();
  await card.getByRole("button", { name: "Recover", exact: true }).click();
  await card.getByRole("status").filter({ hasText: "No failed delivery since then" }).waitFor({ timeout: UI_TIMEOUT });

  await card.getByRole("button", { name: "Delete" }).click();
  await card.waitFor({ state: "detached", timeout: UI_TIMEOUT });
}
