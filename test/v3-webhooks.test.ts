import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { UnwrapWebhookEvent } from "@linqapp/sdk/resources/webhooks";
import { DIALECTS, OUR_NUMBER } from "./helpers/app.ts";
import { startReceiver, type ReceivedRequest, type Receiver } from "./helpers/receiver.ts";
import { V2 } from "./helpers/v2.ts";
import { expectV3Error, startV3App, text, type V3TestApp } from "./helpers/v3.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MESSAGE_EVENTS = ["chat.created", "message.sent", "message.delivered", "message.read", "message.failed"] as const;

function headersOf(request: ReceivedRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
}

/** Every V3 delivery passes the official client's verification (Standard Webhooks) and the legacy hex check. */
function unwrap(app: V3TestApp, request: ReceivedRequest, secret: string): UnwrapWebhookEvent & { data: any } {
  const headers = headersOf(request);
  const event = app.client.webhooks.unwrap(request.body, { headers, key: secret }) as UnwrapWebhookEvent & { data: any };
  const legacy = createHmac("sha256", secret).update(`${headers["x-webhook-timestamp"]}.${request.body}`).digest("hex");
  assert.equal(headers["x-webhook-signature"], legacy, "legacy X-Webhook-Signature: hex over {timestamp}.{body}");
  assert.equal(headers["x-webhook-event"], event.event_type);
  assert.equal(headers["webhook-id"], event.event_id);
  return event;
}

for (const dialect of DIALECTS) {
  describe(`V3 webhook subscriptions and deliveries (${dialect})`, () => {
    let app: V3TestApp;
    let receiver: Receiver;
    before(async () => {
      app = await startV3App(dialect, {
        config: { V3_WEBHOOK_RETRY_SCHEDULE: "20ms,20ms", WEBHOOK_RETRY_JITTER_PERCENT: "0" },
      });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await app.close();
    });

    it("lists the event catalogue", async () => {
      const { events, doc_url } = await app.client.webhookEvents.list();
      assert.equal(events.length, 27);
      assert.ok(events.includes("message.edited") && events.includes("chat.typing_indicator.started"));
      assert.equal(doc_url, "https://docs.linqapp.com/guides/webhooks/events");
    });

    it("creates, lists, gets, updates and deletes subscriptions; the whsec_ secret is shown once", async () => {
      const created = await app.client.webhookSubscriptions.create({
        target_url: `${receiver.url}/crud?version=2025-01-01`,
        subscribed_events: ["message.sent", "message.received"],
        phone_numbers: [OUR_NUMBER],
      });
      assert.match(created.id, UUID);
      assert.match(created.signing_secret, /^whsec_[A-Za-z0-9+/]+=*$/);
      assert.equal(created.target_url, `${receiver.url}/crud?version=2025-01-01`);
      assert.deepEqual(created.phone_numbers, [OUR_NUMBER]);
      assert.equal(created.is_active, true);
      const got = await app.client.webhookSubscriptions.retrieve(created.id);
      assert.equal("signing_secret" in got, false);
      const { signing_secret: _secret, ...shown } = created;
      assert.deepEqual(got, shown);
      assert.deepEqual((await app.client.webhookSubscriptions.list()).subscriptions, [shown]);

      const updated = await app.client.webhookSubscriptions.update(created.id, { phone_numbers: [], is_active: false });
      assert.equal(updated.phone_numbers, null);
      assert.equal(updated.is_active, false);
      assert.deepEqual(updated.subscribed_events, ["message.sent", "message.received"]);

      // V2 and V3 subscriptions are each listed by their own face.
      const v2 = await app.t.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_url: `${receiver.url}/v2-crud`, version: 2, events: ["message.sent"] },
      });
      assert.equal(v2.status, 201, v2.raw);
      assert.deepEqual((await app.client.webhookSubscriptions.list()).subscriptions.map((s) => s.id), [created.id]);
      const v2List = await app.t.request("GET", `${V2}/webhook_subscriptions`);
      assert.deepEqual(v2List.body.webhook_subscriptions.map((s: { id: number }) => s.id), [v2.body.webhook_subscription.id]);
      const v2Uuid = (await app.t.openlinq.deps.store.read.webhookSubscriptions.list(1)).find((s) => s.version === 2)!.uuid;
      await expectV3Error(app.client.webhookSubscriptions.retrieve(v2Uuid), 404, 2010);

      await app.client.webhookSubscriptions.delete(created.id);
      await expectV3Error(app.client.webhookSubscriptions.retrieve(created.id), 404, 2010);
      await expectV3Error(app.client.webhookSubscriptions.delete(created.id), 404, 2010);
      assert.equal((await app.t.request("DELETE", `${V2}/webhook_subscriptions/${v2.body.webhook_subscription.id}`)).status, 204);
    });

    it("refuses bad subscriptions with the V3 codes", async () => {
      const create = app.client.webhookSubscriptions.create.bind(app.client.webhookSubscriptions);
      const url = `${receiver.url}/bad`;
      await expectV3Error(create({ target_url: url, subscribed_events: ["message.exploded" as "message.sent"] }), 400, 1005);
      await expectV3Error(create({ target_url: url, subscribed_events: [] }), 400, 1005);
      await expectV3Error(create({ target_url: `${url}?version=2024-01-01`, subscribed_events: ["message.sent"] }), 400, 1005);
      await expectV3Error(create({ target_url: "not a url", subscribed_events: ["message.sent"] }), 400, 1005);
      await expectV3Error(create({ subscribed_events: ["message.sent"] } as never), 400, 1001);
      await expectV3Error(create({ target_url: url, subscribed_events: ["message.sent"], phone_numbers: ["999-888-7777"] }), 400, 1002);
      const first = await create({ target_url: url, subscribed_events: ["message.sent"] });
      await expectV3Error(create({ target_url: url, subscribed_events: ["message.read"] }), 409, 2015);
      const other = await app.t.secondOrg();
      const foreign = app.clientFor(other.token).webhookSubscriptions;
      await expectV3Error(foreign.retrieve(first.id), 404, 2010);
      await expectV3Error(foreign.update(first.id, { is_active: false }), 404, 2010);
      await expectV3Error(app.client.webhookSubscriptions.update(first.id, { subscribed_events: ["nope" as "message.sent"] }), 400, 1005);
      await app.client.webhookSubscriptions.delete(first.id);
    });

    it("delivers both payload versions, signed both ways, next to a V2 subscription of the same org", async () => {
      const current = await app.client.webhookSubscriptions.create({
        target_url: `${receiver.url}/current`,
        subscribed_events: [...MESSAGE_EVENTS],
      });
      const legacy = await app.client.webhookSubscriptions.create({
        target_url: `${receiver.url}/legacy?version=2025-01-01`,
        subscribed_events: [...MESSAGE_EVENTS],
      });
      const elsewhere = await app.client.webhookSubscriptions.create({
        target_url: `${receiver.url}/other-line`,
        subscribed_events: [...MESSAGE_EVENTS],
        phone_numbers: ["+12025550123"],
      });
      const v2 = await app.t.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_url: `${receiver.url}/v2`, version: 2, events: ["chat.created", "message.sent"] },
      });
      assert.equal(v2.status, 201, v2.raw);

      const created = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550030001"], message: text("hello hooks") });
      await receiver.waitFor((rs) => rs.filter((r) => r.path.startsWith("/current")).length >= 3);
      await receiver.waitFor((rs) => rs.filter((r) => r.path.startsWith("/legacy")).length >= 3);
      await receiver.waitFor((rs) => rs.filter((r) => r.path === "/v2").length >= 2);

      const at = (prefix: string) => receiver.requests.filter((r) => r.path.startsWith(prefix));
      const currentEvents = at("/current").map((r) => unwrap(app, r, current.signing_secret));
      assert.deepEqual(currentEvents.map((e) => e.event_type), ["chat.created", "message.sent", "message.delivered"]);
      for (const request of at("/current")) assert.equal(request.headers["x-webhook-subscription-id"], current.id);
      const [chatCreated, sent, delivered] = currentEvents;
      assert.equal(chatCreated!.api_version, "v3");
      assert.equal(chatCreated!.webhook_version, "2026-02-03");
      assert.match(chatCreated!.trace_id, /^[0-9a-f]{32}$/);
      assert.equal(chatCreated!.data.id, created.chat.id);
      assert.equal(chatCreated!.data.health_status.status, "HEALTHY");
      assert.deepEqual(chatCreated!.data.handles.map((h: { handle: string }) => h.handle).sort(), [OUR_NUMBER, "+15550030001"].sort());
      assert.equal(sent!.data.id, created.chat.message.id);
      assert.equal(sent!.data.direction, "outbound");
      assert.equal(sent!.data.chat.id, created.chat.id);
      assert.equal(sent!.data.chat.owner_handle.handle, OUR_NUMBER);
      assert.equal(sent!.data.sender_handle.handle, OUR_NUMBER);
      assert.deepEqual(sent!.data.parts, [{ type: "text", value: "hello hooks", text_decorations: null }]);
      assert.equal(sent!.data.delivered_at, null);
      assert.ok(delivered!.data.delivered_at, "message.delivered carries delivered_at");
      assert.equal(delivered!.data.read_at, null);

      const legacyEvents = at("/legacy").map((r) => unwrap(app, r, legacy.signing_secret));
      assert.deepEqual(legacyEvents.map((e) => e.event_type), ["chat.created", "message.sent", "message.delivered"]);
      const legacySent = legacyEvents[1]!;
      assert.equal(legacySent.webhook_version, "2025-01-01");
      assert.equal(legacySent.data.chat_id, created.chat.id);
      assert.equal(legacySent.data.is_from_me, true);
      assert.equal(legacySent.data.from, OUR_NUMBER);
      assert.equal(legacySent.data.message.id, created.chat.message.id);
      assert.equal(legacyEvents[2]!.data.message_id, created.chat.message.id);
      assert.equal(legacySent.event_id, sent!.event_id, "one event, rendered per subscription");

      assert.equal(at("/other-line").length, 0, "filtered to a line the chat is not on");
      const v2Events = at("/v2").map((r) => JSON.parse(r.body));
      assert.deepEqual(v2Events.map((e) => [e.api_version, e.event_type]), [["v2", "chat.created"], ["v2", "message.sent"]]);
      assert.match(String(at("/v2")[0]!.headers["x-webhook-signature"]), /^sha256=[0-9a-f]{64}$/);
      for (const id of [current.id, legacy.id, elsewhere.id]) await app.client.webhookSubscriptions.delete(id);
      await app.t.request("DELETE", `${V2}/webhook_subscriptions/${v2.body.webhook_subscription.id}`);
    });

    it("retries a failing receiver on the V3 schedule with the same bytes, each attempt verifiable", async () => {
      // A receiver of its own: queued answers go to its requests only.
      const failing = await startReceiver();
      const retrying = await app.client.webhookSubscriptions.create({
        target_url: `${failing.url}/retry`,
        subscribed_events: ["chat.created"],
      });
      failing.queue({ status: 503 }, { status: 500 });
      await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550030002"], message: text("retry me") });
      await failing.waitFor((rs) => rs.some((r) => r.answeredWith === 200));
      assert.deepEqual(failing.requests.map((r) => r.answeredWith), [503, 500, 200]);
      assert.equal(new Set(failing.requests.map((r) => r.body)).size, 1, "identical bytes on every attempt");
      for (const attempt of failing.requests) assert.equal(unwrap(app, attempt, retrying.signing_secret).event_type, "chat.created");
      await app.client.webhookSubscriptions.delete(retrying.id);
      await failing.close();
    });
  });
}
