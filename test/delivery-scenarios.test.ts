import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, type TestApp } from "./helpers/app.ts";
import { advance, getChat, getMessage, listen, SANDBOX, simulate, startSandbox, type Listener } from "./helpers/sandbox.ts";
import { createChat, sendMessage, V2 } from "./helpers/v2.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startV3App, text, type V3TestApp } from "./helpers/v3.ts";

const SCENARIOS = `${SANDBOX}/scenarios`;

interface LoggedEvent {
  id: string;
  event_type: string;
  scenario_id: number | null;
  deliveries: { subscription_id: number; status: string; scenario_id: number | null }[];
}

for (const dialect of DIALECTS) {
  describe(`delivery scenarios (${dialect})`, () => {
    let t: TestApp;
    let hooks: Listener;
    let recipientCount = 0;

    before(async () => {
      t = await startSandbox(dialect);
      hooks = await listen(t, ["message.sent", "message.received", "message.read"]);
    });
    after(async () => {
      await hooks?.close();
      await t?.close();
    });

    /** A new chat with a recipient of its own, its first message already delivered and its webhook sent. */
    async function freshChat(): Promise<number> {
      recipientCount += 1;
      const chat = await createChat(t, [`+1555444${String(recipientCount).padStart(4, "0")}`], "hello");
      await advance(t, 0);
      return chat.id;
    }

    async function arm(body: Record<string, unknown>) {
      const res = await t.request("POST", SCENARIOS, { body });
      assert.equal(res.status, 201, res.raw);
      return res.body.scenario as { id: number; status: string; kind: string };
    }

    async function send(chatId: number, text: string): Promise<number> {
      const res = await sendMessage(t, chatId, { text });
      assert.equal(res.status, 201, res.raw);
      return Number(res.body.data.chat_message?.id ?? res.body.data.id);
    }

    async function chatEvents(chatId: number): Promise<LoggedEvent[]> {
      const res = await t.request("GET", `${SANDBOX}/events?chat_id=${chatId}&per_page=100`);
      assert.equal(res.status, 200, res.raw);
      return res.body.events as LoggedEvent[];
    }

    async function scenario(id: number) {
      const res = await t.request("GET", `${SCENARIOS}/${id}`);
      assert.equal(res.status, 200, res.raw);
      return res.body.scenario;
    }

    it("fails the chat's next message after message.sent, with the chosen code, and logs it", async () => {
      const chatId = await freshChat();
      const armed = await arm({ kind: "message_failed", chat_id: chatId, code: 4005 });
      assert.equal(armed.status, "armed");
      const from = hooks.receiver.requests.length;
      const messageId = await send(chatId, "this one fails");
      await advance(t, 0);

      const message = await getMessage(t, chatId, messageId);
      assert.equal(message.delivery_status, "failed");
      assert.deepEqual(hooks.types(from), ["message.sent"], "V2 has no message.failed webhook");

      const failed = (await chatEvents(chatId)).find((e) => e.event_type === "message.failed");
      assert.ok(failed, "the event log has the message.failed");
      assert.equal(failed.scenario_id, armed.id);
      const detail = (await t.request("GET", `${SANDBOX}/events/${failed.id}`)).body.event;
      assert.equal(detail.payload.data.code, 4005);
      assert.equal(detail.payload.data.message.id, messageId);

      const applied = await scenario(armed.id);
      assert.equal(applied.status, "applied");
      assert.equal(applied.message_id, messageId);
      assert.deepEqual(applied.event_ids, [failed.id]);

      const next = await send(chatId, "the scenario is used up");
      await advance(t, 0);
      assert.equal((await getMessage(t, chatId, next)).delivery_status, "delivered");
    });

    it("delivers, then fails after delay_ms", async () => {
      const chatId = await freshChat();
      const armed = await arm({ kind: "delivered_then_failed", chat_id: chatId, delay_ms: 2000 });
      const messageId = await send(chatId, "delivered, then not");
      await advance(t, 0);
      assert.equal((await getMessage(t, chatId, messageId)).delivery_status, "delivered");
      await advance(t, 2000);
      assert.equal((await getMessage(t, chatId, messageId)).delivery_status, "failed");
      const made = (await chatEvents(chatId)).filter((e) => e.scenario_id === armed.id).map((e) => e.event_type);
      assert.deepEqual(made.sort(), ["message.delivered", "message.failed"]);
      const applied = await scenario(armed.id);
      assert.equal(applied.code, 4001, "the default code");
      assert.equal(applied.event_ids.length, 2);
    });

    it("sends the read receipt before the message is delivered", async () => {
      const chatId = await freshChat();
      const armed = await arm({ kind: "read_before_delivered", chat_id: chatId, delay_ms: 1500 });
      const from = hooks.receiver.requests.length;
      const messageId = await send(chatId, "read me early");
      await advance(t, 0);
      assert.deepEqual(hooks.types(from), ["message.sent", "message.read"]);
      let message = await getMessage(t, chatId, messageId);
      assert.equal(message.is_read, true);
      assert.equal(message.delivery_status, "pending", "read, yet not delivered");
      const read = hooks.envelopes().at(-1)!;
      const logged = (await chatEvents(chatId)).find((e) => e.id === read.event_id)!;
      assert.equal(logged.scenario_id, armed.id);

      await advance(t, 1500);
      message = await getMessage(t, chatId, messageId);
      assert.equal(message.delivery_status, "delivered");
    });

    it("downgrades the chat to SMS on its next message", async () => {
      const chatId = await freshChat();
      assert.equal((await getChat(t, chatId)).service, "iMessage");
      const armed = await arm({ kind: "sms_downgrade", chat_id: chatId });
      const messageId = await send(chatId, "goes out as SMS");
      await advance(t, 0);
      assert.equal((await getChat(t, chatId)).service, "SMS");
      assert.equal((await getMessage(t, chatId, messageId)).delivery_status, "delivered");
      const delivered = (await chatEvents(chatId)).find((e) => e.scenario_id === armed.id)!;
      assert.equal(delivered.event_type, "message.delivered");
      const detail = (await t.request("GET", `${SANDBOX}/events/${delivered.id}`)).body.event;
      assert.equal(detail.payload.data.chat.service, "SMS");
    });

    it("plays a carrier kind on a given message at once", async () => {
      const chatId = await freshChat();
      const messageId = await send(chatId, "already delivered");
      await advance(t, 0);
      const played = await arm({ kind: "message_failed", message_id: messageId, code: 1007 });
      assert.equal(played.status, "applied");
      assert.equal((await getMessage(t, chatId, messageId)).delivery_status, "rate_limit_exceeded");
      const refused = await t.request("POST", SCENARIOS, { body: { kind: "read_before_delivered", message_id: messageId } });
      assert.equal(refused.status, 422, refused.raw);
      assert.match(refused.body.errors?.[0]?.detail ?? refused.raw, /still on its way/);
    });

    it("delivers the chat's next webhook twice with the same event id and bytes", async () => {
      const chatId = await freshChat();
      const armed = await arm({ kind: "duplicate_delivery", chat_id: chatId });
      const from = hooks.receiver.requests.length;
      const handle = `+1555444${String(recipientCount).padStart(4, "0")}`;
      await simulate(t, "inbound_message", { from: handle, chat_id: chatId, text: "say it twice" });
      await simulate(t, "inbound_message", { from: handle, chat_id: chatId, text: "once" });
      await advance(t, 0);
      const got = hooks.receiver.requests.slice(from);
      assert.equal(got.length, 3);
      assert.equal(got[0]!.body, got[1]!.body, "the same bytes");
      assert.equal(got[0]!.headers["webhook-id"], got[1]!.headers["webhook-id"]);
      const first = JSON.parse(got[0]!.body);
      assert.equal(first.data.text ?? first.data.message?.text ?? JSON.parse(got[0]!.body).data.parts?.[0]?.value, "say it twice");
      const logged = (await chatEvents(chatId)).find((e) => e.id === first.event_id)!;
      assert.deepEqual(
        logged.deliveries.map((d) => [d.subscription_id, d.status, d.scenario_id]),
        [
          [hooks.subscriptionId, "succeeded", armed.id],
          [hooks.subscriptionId, "succeeded", armed.id],
        ],
      );
      assert.equal((await scenario(armed.id)).event_ids[0], first.event_id);
    });

    it("delivers two events out of order", async () => {
      const chatId = await freshChat();
      const handle = `+1555444${String(recipientCount).padStart(4, "0")}`;
      const armed = await arm({ kind: "out_of_order", chat_id: chatId, delay_ms: 3000 });
      const from = hooks.receiver.requests.length;
      const a = await simulate(t, "inbound_message", { from: handle, chat_id: chatId, text: "first" });
      const b = await simulate(t, "inbound_message", { from: handle, chat_id: chatId, text: "second" });
      await advance(t, 0);
      const ids = () => hooks.envelopes().slice(from).map((e) => e.event_id);
      assert.deepEqual(ids(), [b.events[0].event_id], "the second event went on without the first");
      await advance(t, 3000);
      assert.deepEqual(ids(), [b.events[0].event_id, a.events[0].event_id]);
      const logged = (await chatEvents(chatId)).find((e) => e.id === a.events[0].event_id)!;
      assert.equal(logged.deliveries[0]!.scenario_id, armed.id);
    });

    it("delays the chat's next webhook, and the ones after it wait", async () => {
      const chatId = await freshChat();
      const handle = `+1555444${String(recipientCount).padStart(4, "0")}`;
      await arm({ kind: "delayed_delivery", chat_id: chatId, delay_ms: 5000 });
      const from = hooks.receiver.requests.length;
      const a = await simulate(t, "inbound_message", { from: handle, chat_id: chatId, text: "late" });
      const b = await simulate(t, "inbound_message", { from: handle, chat_id: chatId, text: "behind it" });
      await advance(t, 4999);
      assert.equal(hooks.receiver.requests.length, from, "nothing before the delay is over");
      await advance(t, 1);
      assert.deepEqual(
        hooks.envelopes().slice(from).map((e) => e.event_id),
        [a.events[0].event_id, b.events[0].event_id],
      );
    });

    it("replays exactly under the same OPENLINQ_RANDOM_SEED: the failure falls at the same moment", async () => {
      /** Sends through a jittery recipient and returns when (after sending) the injected failure happened. */
      const run = async (sandbox: TestApp) => {
        await sandbox.request("PUT", `${SANDBOX}/handles/%2B15554448888`, { body: { latency_ms: 1000, jitter_ms: 4000 } });
        const chat = await createChat(sandbox, ["+15554448888"], "hello");
        await advance(sandbox, 6000);
        const armed = await sandbox.request("POST", SCENARIOS, { body: { kind: "message_failed", chat_id: chat.id, delay_ms: 250 } });
        assert.equal(armed.status, 201, armed.raw);
        const sent = await sendMessage(sandbox, chat.id, { text: "jittery" });
        const sentAt = Date.parse(sent.body.data.sent_at);
        await advance(sandbox, 6000);
        const events = (await sandbox.request("GET", `${SANDBOX}/events?chat_id=${chat.id}&event_type=message.failed`)).body.events;
        assert.equal(events.length, 1);
        return Date.parse(events[0].created_at) - sentAt;
      };
      const other = await startSandbox(dialect);
      try {
        const first = await run(other);
        const again = await startSandbox(dialect);
        try {
          const second = await run(again);
          assert.equal(second, first);
          assert.ok(first >= 1250 && first <= 5250, `latency + jitter + delay_ms, got ${first} ms`);
        } finally {
          await again.close();
        }
      } finally {
        await other.close();
      }
    });

    it("lists, refuses bad input, and disarms", async () => {
      const chatId = await freshChat();
      const armed = await arm({ kind: "delayed_delivery", chat_id: chatId });
      const listed = (await t.request("GET", SCENARIOS)).body.scenarios as { id: number; status: string }[];
      assert.equal(listed.find((s) => s.id === armed.id)?.status, "armed");

      const bad = async (body: unknown, status: number) => {
        const res = await t.request("POST", SCENARIOS, { body });
        assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.raw}`);
      };
      await bad({ kind: "nope", chat_id: chatId }, 400);
      await bad({ kind: "message_failed" }, 422);
      await bad({ kind: "message_failed", chat_id: chatId, message_id: 1 }, 422);
      await bad({ kind: "duplicate_delivery", message_id: 1 }, 422);
      await bad({ kind: "read_before_delivered", chat_id: chatId, code: 4001 }, 422);
      await bad({ kind: "message_failed", chat_id: chatId, code: 9999 }, 400);
      await bad({ kind: "message_failed", chat_id: 999_999 }, 404);
      const other = await t.secondOrg();
      const foreign = await t.request("GET", `${SCENARIOS}/${armed.id}`, { token: other.token });
      assert.equal(foreign.status, 404, "another organization's scenario does not exist for it");

      assert.equal((await t.request("DELETE", `${SCENARIOS}/${armed.id}`)).status, 204);
      assert.equal((await t.request("DELETE", `${SCENARIOS}/${armed.id}`)).status, 404);
      const handle = `+1555444${String(recipientCount).padStart(4, "0")}`;
      const from = hooks.receiver.requests.length;
      await simulate(t, "inbound_message", { from: handle, to: OUR_NUMBER, text: "not delayed" });
      await advance(t, 0);
      assert.equal(hooks.receiver.requests.length, from + 1, "a disarmed scenario does nothing");
      assert.equal((await t.request("GET", `${V2}/chats/${chatId}`)).status, 200);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`delivery scenarios seen by a V3 subscriber (${dialect})`, () => {
    let app: V3TestApp;
    let receiver: Receiver;
    let secret: string;

    before(async () => {
      app = await startV3App(dialect, { config: { CLOCK: "virtual", RANDOM_SEED: "7", WEBHOOK_CONCURRENCY: "1", WEBHOOK_RETRY_JITTER_PERCENT: "0" } });
      receiver = await startReceiver();
      const subscription = await app.client.webhookSubscriptions.create({
        target_url: `${receiver.url}/v3`,
        subscribed_events: ["message.sent", "message.delivered", "message.failed", "message.read"],
      });
      secret = subscription.signing_secret;
    });
    after(async () => {
      await receiver?.close();
      await app?.close();
    });

    const events = (from: number) =>
      receiver.requests.slice(from).map((request) => {
        const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
        return app.client.webhooks.unwrap(request.body, { headers, key: secret }) as { event_type: string; event_id: string; data: any };
      });

    it("gets message.sent, then message.failed with the chosen code, for a chat armed by its V3 id", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15554449901"], message: text("hello") });
      await advance(app.t, 0);
      const armed = await app.t.request("POST", SCENARIOS, { body: { kind: "message_failed", chat_id: chat.id, code: 4005 } });
      assert.equal(armed.status, 201, armed.raw);
      const from = receiver.requests.length;
      const { message } = await app.client.chats.messages.send(chat.id, { message: text("this one fails") });
      await advance(app.t, 0);
      const got = events(from);
      assert.deepEqual(got.map((e) => e.event_type), ["message.sent", "message.failed"]);
      assert.equal(got[1]!.data.code, 4005);
      assert.equal(got[1]!.data.message_id, message.id);
      assert.equal(got[1]!.data.reason, "Recipient does not support this message type");
    });

    it("gets one event twice with the same webhook-id", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15554449902"], message: text("hello") });
      await advance(app.t, 0);
      await app.t.request("POST", SCENARIOS, { body: { kind: "duplicate_delivery", chat_id: chat.id } });
      const from = receiver.requests.length;
      await app.client.chats.messages.send(chat.id, { message: text("twice") });
      await advance(app.t, 0);
      const got = events(from);
      assert.equal(got[0]!.event_type, "message.sent");
      assert.equal(got[1]!.event_id, got[0]!.event_id);
      assert.equal(receiver.requests[from]!.body, receiver.requests[from + 1]!.body);
    });
  });
}
