import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, type TestApp } from "./helpers/app.ts";
import { advance, getProfile, listen, simulate, startSandbox, type Listener } from "./helpers/sandbox.ts";
import { V2, createChat, sendMessage } from "./helpers/v2.ts";

/** What our side does reaches the simulated devices: typing, read receipts, our contact card. */
for (const dialect of DIALECTS) {
  describe(`simulator: our actions reach the devices (${dialect})`, () => {
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

    const device = async (handle: string) => {
      await advance(t, 0);
      return (await getProfile(t, handle)).device;
    };

    it("shows our typing on their screen until we stop, send, or 60 seconds pass", async () => {
      const them = "+15551230401";
      const chat = await createChat(t, [them], "Hi");
      const typing = (action: "start_typing" | "stop_typing") =>
        t.request(action === "start_typing" ? "POST" : "DELETE", `${V2}/chats/${chat.id}/${action}`);

      assert.equal((await typing("start_typing")).status, 201);
      let state = await device(them);
      assert.deepEqual(state.sees_our_typing.map((s: { chat_id: number }) => s.chat_id), [chat.id]);
      assert.equal(Date.parse(state.sees_our_typing[0].expires_at) - Date.parse(state.sees_our_typing[0].since), 60_000);
      assert.equal((await typing("stop_typing")).status, 204);
      assert.deepEqual((await device(them)).sees_our_typing, []);

      await typing("start_typing");
      await sendMessage(t, chat.id, { text: "Here it is" });
      assert.deepEqual((await device(them)).sees_our_typing, [], "sending ends the indicator");

      await typing("start_typing");
      await advance(t, 59_999);
      assert.equal((await device(them)).sees_our_typing.length, 1);
      await advance(t, 1);
      assert.deepEqual((await device(them)).sees_our_typing, [], "the indicator times out");

      await advance(t, 0);
      const types = new Set(hooks.types());
      assert.ok(!types.has("typing_indicator.received"), "our own typing is no webhook event");
    });

    it("shows a read receipt once we mark their messages read", async () => {
      const them = "+15551230402";
      const inbound = await simulate(t, "inbound_message", { from: them, to: OUR_NUMBER, text: "Did you see this?" });
      assert.deepEqual((await device(them)).read_receipts, []);
      const res = await t.request("PUT", `${V2}/chats/${inbound.chat.id}/mark_as_read`);
      assert.equal(res.status, 204);
      const receipts = (await device(them)).read_receipts;
      assert.deepEqual(receipts.map((r: { chat_id: number }) => r.chat_id), [inbound.chat.id]);
      assert.match(receipts[0].read_at, /^\d{4}-\d\d-\d\dT/);
    });

    it("delivers our contact card (name and number) to iMessage devices", async () => {
      const them = "+15551230403";
      const chat = await createChat(t, [them], "Save my number");
      const res = await t.request("POST", `${V2}/chats/${chat.id}/share_contact`);
      assert.equal(res.status, 201);
      const cards = (await device(them)).contact_cards;
      assert.equal(cards.length, 1);
      assert.equal(cards[0].chat_id, chat.id);
      assert.equal(cards[0].phone_number, OUR_NUMBER);
      assert.equal(cards[0].name, "openlinq Admin");
    });

    it("replacing our tapback tells the receiver the old one went away before the new one arrives", async () => {
      const chat = await createChat(t, ["+15551230405"], "Pick one");
      await advance(t, 0);
      const from = hooks.envelopes().length;
      const react = async (type: string, operation: string) => {
        const res = await t.request("POST", `${V2}/chat_messages/${chat.chat_messages.id}/reactions`, { body: { type, operation } });
        assert.ok(res.status === 200 || res.status === 201, res.raw);
        return res.body.data;
      };
      const love = await react("love", "add");
      const like = await react("like", "add");
      await react("like", "add");
      await react("like", "remove");
      await advance(t, 0);
      const events = hooks.envelopes().slice(from).filter((e) => e.event_type.startsWith("reaction."));
      assert.deepEqual(
        events.map((e) => [e.event_type, e.data.reaction, e.data.operation, e.data.id]),
        [
          ["reaction.sent", "love", "add", String(love.id)],
          ["reaction.sent", "love", "remove", String(love.id)],
          ["reaction.sent", "like", "add", String(like.id)],
          ["reaction.sent", "like", "remove", String(like.id)],
        ],
      );
    });

    it("shows nothing of the sort on an SMS-only phone, and shows their own typing", async () => {
      const sms = "+15550100002";
      const chat = await createChat(t, [sms], "Plain text");
      await t.request("POST", `${V2}/chats/${chat.id}/start_typing`);
      await t.request("POST", `${V2}/chats/${chat.id}/share_contact`);
      await t.request("PUT", `${V2}/chats/${chat.id}/mark_as_read`);
      const state = await device(sms);
      assert.deepEqual([state.sees_our_typing, state.contact_cards, state.read_receipts], [[], [], []]);

      const them = "+15551230404";
      const rich = await createChat(t, [them], "Typing test");
      await simulate(t, "typing", { from: them, chat_id: rich.id, state: "started" });
      assert.deepEqual((await device(them)).typing.map((s: { chat_id: number }) => s.chat_id), [rich.id]);
    });
  });
}
