import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER } from "./helpers/app.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { V2 } from "./helpers/v2.ts";
import { advance, simulate } from "./helpers/sandbox.ts";
import { expectV3Error, startBothFaces, startV3App, text, unwrapDelivery as unwrap, type BothFaces, type V3TestApp } from "./helpers/v3.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MESSAGE_EVENTS = ["chat.created", "message.sent", "message.delivered", "message.read", "message.failed"] as const;

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

    it("the delivery log resends to and recovers V3 subscriptions by their UUID", async () => {
      const failing = await startReceiver({ status: 500 });
      const subscription = await app.client.webhookSubscriptions.create({
        target_url: `${failing.url}/log`,
        subscribed_events: ["chat.created"],
      });
      const since = new Date().toISOString();
      await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550030003"], message: text("log me") });
      await failing.waitFor((rs) => rs.length === 3);
      const eventId = String(failing.requests[0]!.headers["webhook-id"]);
      const logged = await app.t.request("GET", `/openlinq/v1/events/${eventId}`, { token: null, headers: { authorization: `Bearer ${app.t.token}` } });
      assert.equal(logged.status, 200, logged.raw);
      const delivery = logged.body.event.deliveries.find((d: { webhook_url: string }) => d.webhook_url.endsWith("/log"));
      await waitUntil(async () => {
        const res = await app.t.request("GET", `/openlinq/v1/events/${eventId}`);
        return res.body.event.deliveries.some((d: { id: number; status: string }) => d.id === delivery.id && d.status === "failed");
      });
      assert.equal(delivery.subscription_id > 0, true);

      failing.answer({ status: 200 });
      const recovered = await app.t.request("POST", `/openlinq/v1/webhook_subscriptions/${subscription.id}/recover`, { body: { since } });
      assert.equal(recovered.status, 202, recovered.raw);
      assert.equal(recovered.body.requeued, 1);
      const statusIs = (status: string) => async () => {
        const res = await app.t.request("GET", `/openlinq/v1/events/${eventId}`);
        return res.body.event.deliveries.some((d: { id: number; status: string }) => d.id === delivery.id && d.status === status);
      };
      await waitUntil(statusIs("succeeded"));
      assert.equal(failing.requests.length, 4);
      const resent = await app.t.request("POST", `/openlinq/v1/events/${eventId}/resend`, { body: { subscription_id: subscription.id } });
      assert.equal(resent.status, 202, resent.raw);
      await failing.waitFor((rs) => rs.length === 5);
      assert.equal(new Set(failing.requests.map((r) => r.body)).size, 1);
      for (const request of failing.requests) assert.equal(unwrap(app, request, subscription.signing_secret).event_id, eventId);
      const bad = await app.t.request("POST", `/openlinq/v1/events/${eventId}/resend`, { body: { subscription_id: "not-a-uuid" } });
      assert.equal(bad.status, 400, bad.raw);
      await app.client.webhookSubscriptions.delete(subscription.id);
      await failing.close();
    });
  });
}

/** Polls a condition of the outside-visible state (a delivery's status moves on in the worker's own time). */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every event the V3 face delivers from what the domain produces. */
const PRODUCED_EVENTS = [
  "message.sent",
  "message.received",
  "message.read",
  "message.delivered",
  "message.failed",
  "message.edited",
  "reaction.added",
  "reaction.removed",
  "participant.added",
  "participant.removed",
  "chat.created",
  "chat.group_name_updated",
  "chat.group_icon_updated",
  "chat.group_name_update_failed",
  "chat.group_icon_update_failed",
  "chat.typing_indicator.started",
  "chat.typing_indicator.stopped",
  "phone_number.status_updated",
] as const;

for (const dialect of DIALECTS) {
  describe(`the simulator drives V2 and V3 subscriptions of one org (${dialect})`, () => {
    let faces: BothFaces;
    let app: V3TestApp;
    before(async () => {
      faces = await startBothFaces(dialect, PRODUCED_EVENTS);
      app = faces.app;
    });
    after(() => faces.close());
    const received = () => faces.received();
    const types = (events: { event_type: string }[]) => events.map((e) => e.event_type);
    const v2ChatId = async (uuid: string) => (await app.t.openlinq.deps.store.read.chats.findByUuid(1, uuid))!.id;

    it("a reply, a read, a tapback and typing: each face gets its own events, in order", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550100004"], message: text("ping") });
      let got = await received();
      assert.deepEqual(types(got.v3), ["chat.created", "message.sent", "message.delivered"]);
      assert.deepEqual(types(got.legacy), ["chat.created", "message.sent", "message.delivered"]);
      assert.deepEqual(types(got.v2), ["chat.created", "message.sent"]);

      await advance(app.t, 1000);
      got = await received();
      assert.deepEqual(types(got.v3), ["message.read", "message.received"]);
      assert.deepEqual(types(got.v2), ["message.read", "message.received"]);
      const [read, reply] = got.v3;
      assert.equal(read!.data.id, chat.message.id);
      assert.ok(read!.data.read_at && read!.data.delivered_at);
      assert.equal(reply!.data.direction, "inbound");
      assert.equal(reply!.data.sender_handle.handle, "+15550100004");
      assert.deepEqual(reply!.data.parts, [{ type: "text", value: "ping", text_decorations: null }]);
      const legacyReply = got.legacy[1]!;
      assert.equal(legacyReply.data.is_from_me, false);
      assert.equal(legacyReply.data.recipient_phone, OUR_NUMBER);
      assert.equal(legacyReply.data.message.id, reply!.data.id);

      const chatId = await v2ChatId(chat.id);
      const theirs = (await app.t.openlinq.deps.store.read.messages.findByUuid(1, reply!.data.id))!;
      const ours = (await app.t.openlinq.deps.store.read.messages.findByUuid(1, chat.message.id))!;
      await simulate(app.t, "reaction", { from: "+15550100004", chat_message_id: ours.id, type: "love", operation: "add" });
      await simulate(app.t, "typing", { from: "+15550100004", chat_id: chatId, state: "started" });
      await simulate(app.t, "typing", { from: "+15550100004", chat_id: chatId, state: "stopped" });
      await app.client.messages.addReaction(theirs.uuid, { operation: "add", type: "like" });
      await app.client.messages.addReaction(theirs.uuid, { operation: "remove", type: "like" });
      got = await received();
      assert.deepEqual(types(got.v3), [
        "reaction.added",
        "chat.typing_indicator.started",
        "chat.typing_indicator.stopped",
        "reaction.added",
        "reaction.removed",
      ]);
      assert.deepEqual(types(got.v2), [
        "reaction.received",
        "typing_indicator.received",
        "typing_indicator.removed",
        "reaction.sent",
        "reaction.sent",
      ]);
      const [love, started, , like] = got.v3;
      assert.deepEqual(
        [love!.data.reaction_type, love!.data.is_from_me, love!.data.message_id, love!.data.from_handle.handle],
        ["love", false, chat.message.id, "+15550100004"],
      );
      assert.deepEqual(started!.data, { chat_id: chat.id });
      assert.deepEqual([like!.data.reaction_type, like!.data.is_from_me, like!.data.message_id], ["like", true, theirs.uuid]);
      assert.deepEqual(types(got.legacy), types(got.v3), "outside the message lifecycle both versions get the same events");

      await app.client.messages.update(chat.message.id, { text: "pong", part_index: 0 });
      got = await received();
      assert.deepEqual(types(got.v3), ["message.edited"]);
      assert.deepEqual(got.v3[0]!.data.part, { index: 0, text: "pong" });
      assert.equal(got.v3[0]!.data.direction, "outbound");
      assert.deepEqual(types(got.legacy), [], "message.edited exists in 2026-02-03 only");
      assert.deepEqual(types(got.v2), []);
    });

    it("an unreachable number: message.failed for V3, message.sent only for V2", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550100001"], message: text("anyone?") });
      const got = await received();
      assert.deepEqual(types(got.v3), ["chat.created", "message.sent", "message.failed"]);
      assert.deepEqual(types(got.v2), ["chat.created", "message.sent"]);
      const failed = got.v3[2]!.data;
      assert.equal(failed.code, 4001);
      assert.equal(failed.chat_id, chat.id);
      assert.equal(failed.message_id, chat.message.id);
      assert.equal(typeof failed.reason, "string");
    });

    it("group changes: participants for both faces; name and icon changes, or their failure in an SMS group, for V3", async () => {
      const { chat } = await app.client.chats.create({
        from: OUR_NUMBER,
        to: ["+15550040001", "+15550040002", "+15550040003"],
        message: text("team"),
      });
      await received();
      await simulate(app.t, "participants", { chat_id: await v2ChatId(chat.id), add: ["+15550040004"], remove: ["+15550040001"] });
      await app.client.chats.update(chat.id, { display_name: "Launch crew", group_chat_icon: "https://example.com/icon.png" });
      let got = await received();
      assert.deepEqual(types(got.v3), ["participant.added", "participant.removed", "chat.group_name_updated", "chat.group_icon_updated"]);
      assert.deepEqual(types(got.v2), ["participant.added", "participant.removed"]);
      const [added, , renamed, icon] = got.v3;
      assert.equal(added!.data.handle, "+15550040004");
      assert.equal(added!.data.participant.handle, "+15550040004");
      assert.equal(added!.data.chat_id, chat.id);
      assert.deepEqual([renamed!.data.old_value, renamed!.data.new_value], [null, "Launch crew"]);
      assert.equal(renamed!.data.changed_by_handle.handle, OUR_NUMBER, "changed through the API: by our line");
      assert.deepEqual([icon!.data.old_value, icon!.data.new_value], [null, "https://example.com/icon.png"]);

      const sms = await app.client.chats.create({
        from: OUR_NUMBER,
        to: ["+15550100002", "+15550040005"],
        message: text("sms group"),
      });
      await received();
      await app.client.chats.update(sms.chat.id, { display_name: "Never" });
      got = await received();
      assert.deepEqual(types(got.v3), ["chat.group_name_update_failed"]);
      assert.deepEqual(Object.keys(got.v3[0]!.data).sort(), ["chat_id", "error_code", "failed_at"]);
      assert.equal((await app.client.chats.retrieve(sms.chat.id)).display_name, "+15550100002, +15550040005");
    });

    it("a line flagged by the network: phone_number.status_updated for V3", async () => {
      await simulate(app.t, "line_status", { phone_number: OUR_NUMBER, status: "FLAGGED", reputation: "AT_RISK" }, 200);
      const got = await received();
      assert.deepEqual(types(got.v3), ["phone_number.status_updated"]);
      assert.deepEqual(types(got.v2), []);
      const { changed_at: _at, ...data } = got.v3[0]!.data;
      assert.deepEqual(data, {
        phone_number: OUR_NUMBER,
        previous_status: "ACTIVE",
        new_status: "FLAGGED",
        previous_reputation: "HEALTHY",
        new_reputation: "AT_RISK",
        previous_health_status: "HEALTHY",
        new_health_status: "AT_RISK",
      });
      assert.equal((await app.client.phoneNumbers.list()).phone_numbers[0]!.reputation.status, "AT_RISK");
    });
  });
}
