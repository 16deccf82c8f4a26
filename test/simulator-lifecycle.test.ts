import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, type TestApp } from "./helpers/app.ts";
import { advance, getChat, getMessage, listen, putProfile, startSandbox, type Listener } from "./helpers/sandbox.ts";
import { V2, createChat, sendMessage } from "./helpers/v2.ts";

/** Outbound lifecycle: what a client reads on our messages, moment by moment, and the webhooks around it. */
for (const dialect of DIALECTS) {
  describe(`simulator: outbound lifecycle (${dialect})`, () => {
    let t: TestApp;
    let hooks: Listener;
    before(async () => {
      t = await startSandbox(dialect);
      hooks = await listen(t);
    });
    after(async () => {
      await hooks.close();
      await t.close();
    });

    it("delivers to a recipient without a profile at once, as the quickstart shows, and nothing else happens", async () => {
      await advance(t, 0);
      const seen = hooks.envelopes().length;
      const data = await createChat(t, ["+15551234567"], "Hello!");
      assert.equal(data.chat_messages.delivery_status, "delivered");
      assert.equal(data.chat_messages.delivered_at, data.chat_messages.sent_at);
      assert.equal(data.message.delivery_status, "delivered");
      assert.equal(data.service, "iMessage");
      await advance(t, 3_600_000);
      assert.deepEqual(hooks.types(seen), ["chat.created", "message.sent"]);
      const message = await getMessage(t, data.id, data.chat_messages.id);
      assert.equal(message.is_read, false, "a default recipient never sends a read receipt");
    });

    it("moves a message pending → delivered → read on the profile's schedule, every field true at every moment", async () => {
      const recipient = "+15551230101";
      await putProfile(t, recipient, { latency_ms: 1500, read_after_ms: 3000 });
      await advance(t, 0);
      const seen = hooks.envelopes().length;
      const data = await createChat(t, [recipient], "Are you there?");
      const sent = data.chat_messages;
      assert.equal(sent.delivery_status, "pending");
      assert.equal(sent.delivered_at, null);
      assert.equal(sent.is_read, false);

      await advance(t, 1499);
      let message = await getMessage(t, data.id, sent.id);
      assert.equal(message.delivery_status, "pending");
      assert.equal(message.delivered_at, null);

      await advance(t, 1);
      message = await getMessage(t, data.id, sent.id);
      assert.equal(message.delivery_status, "delivered");
      assert.equal(Date.parse(message.delivered_at) - Date.parse(sent.sent_at), 1500);
      assert.equal(message.is_read, false);
      assert.deepEqual(hooks.types(seen), ["chat.created", "message.sent"], "V2 has no delivery event");

      await advance(t, 2999);
      assert.equal((await getMessage(t, data.id, sent.id)).is_read, false);
      await advance(t, 1);
      assert.equal((await getMessage(t, data.id, sent.id)).is_read, true);
      assert.deepEqual(hooks.types(seen), ["chat.created", "message.sent", "message.read"]);
      const read = hooks.envelopes().at(-1)!;
      assert.deepEqual(Object.keys(read.data).sort(), ["chat_id", "id", "read_at"]);
      assert.equal(read.data.id, String(sent.id));
      assert.equal(read.data.chat_id, String(data.id));
      assert.equal(Date.parse(read.data.read_at), Date.parse(sent.sent_at) + 4500 - ((Date.parse(sent.sent_at) + 4500) % 1000));
    });

    it("fails messages to an unreachable number, and nothing follows them", async () => {
      await advance(t, 0);
      const seen = hooks.envelopes().length;
      const data = await createChat(t, ["+15550100001"], "Anyone?");
      assert.equal(data.chat_messages.delivery_status, "service_unavailable");
      assert.equal(data.chat_messages.delivered_at, null);
      const check = await t.request("POST", `${V2}/i_message_availability/check`, { body: { phone_number: "+15550100001" } });
      assert.equal(check.body.available, false);

      const slow = "+15551230102";
      await putProfile(t, slow, { reachable: false, latency_ms: 2000, read_after_ms: 10, auto_reply: { type: "echo" } });
      const failing = await createChat(t, [slow], "Still there?");
      assert.equal(failing.chat_messages.delivery_status, "pending", "the failure takes the profile's latency to show");
      await advance(t, 2000);
      const message = await getMessage(t, failing.id, failing.chat_messages.id);
      assert.equal(message.delivery_status, "service_unavailable");
      assert.equal(message.delivered_at, null);
      await advance(t, 60_000);
      assert.equal((await getMessage(t, failing.id, failing.chat_messages.id)).is_read, false);
      assert.deepEqual(hooks.types(seen), ["chat.created", "message.sent", "chat.created", "message.sent"]);
    });

    it("falls back to SMS for an SMS-only number: the chat, its handle and the events say SMS", async () => {
      await advance(t, 0);
      const seen = hooks.envelopes().length;
      const data = await createChat(t, ["+15550100002"], "Hi over SMS");
      assert.equal(data.service, "SMS");
      assert.equal(data.chat_handles[0].service, "SMS");
      assert.equal(data.chat_messages.delivery_status, "delivered");
      await advance(t, 0);
      const [created, sent] = hooks.envelopes().slice(seen);
      assert.equal(created!.event_type, "chat.created");
      assert.equal(created!.data.service, "SMS");
      assert.equal(sent!.event_type, "message.sent");
      assert.equal(sent!.data.service, "SMS");
    });

    it("switches a chat to SMS when its recipient loses iMessage, and back when they regain it", async () => {
      const recipient = "+15551230103";
      const data = await createChat(t, [recipient], "On iMessage");
      assert.equal(data.service, "iMessage");
      await putProfile(t, recipient, { service: "SMS", read_after_ms: 500 });
      await advance(t, 0);
      const seen = hooks.envelopes().length;

      const fallback = await sendMessage(t, data.id, { text: "Now by SMS" });
      assert.equal(fallback.status, 201, fallback.raw);
      let chat = await getChat(t, data.id);
      assert.equal(chat.service, "SMS");
      assert.equal(chat.chat_handles[0].service, "SMS");
      await advance(t, 5000);
      assert.deepEqual(hooks.types(seen), ["message.sent"], "SMS carries no read receipts");
      assert.equal(hooks.envelopes().at(-1)!.data.service, "SMS");

      await putProfile(t, recipient, { service: "iMessage", read_after_ms: null });
      await sendMessage(t, data.id, { text: "Back on iMessage" });
      chat = await getChat(t, data.id);
      assert.equal(chat.service, "iMessage");
      assert.equal(chat.chat_handles[0].service, "iMessage");
      await advance(t, 0);
      assert.equal(hooks.envelopes().at(-1)!.data.service, "iMessage");
    });

    it("gives a group the weakest service of its members and delivers when the slowest reachable one has it", async () => {
      const fast = "+15551230104";
      const slowRcs = "+15551230105";
      await putProfile(t, slowRcs, { service: "RCS", latency_ms: 4000 });
      const data = await createChat(t, [fast, slowRcs, "+15550100001"], "Group hello");
      assert.equal(data.group, true);
      assert.equal(data.service, "RCS");
      assert.equal(data.chat_messages.delivery_status, "pending");
      await advance(t, 3999);
      assert.equal((await getMessage(t, data.id, data.chat_messages.id)).delivery_status, "pending");
      await advance(t, 1);
      assert.equal((await getMessage(t, data.id, data.chat_messages.id)).delivery_status, "delivered");
    });
  });
}
