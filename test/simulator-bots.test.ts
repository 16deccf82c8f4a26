import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, type TestApp } from "./helpers/app.ts";
import { advance, getMessage, getProfile, listen, putProfile, startSandbox, type Listener, envelopeReader } from "./helpers/sandbox.ts";
import { createChat, listMessages, sendMessage } from "./helpers/v2.ts";

/** Recipients that act on their own: echo bots, scripted replies, automatic tapbacks, jitter. */
for (const dialect of DIALECTS) {
  describe(`simulator: automatic recipients under the virtual clock (${dialect})`, () => {
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

    const received = envelopeReader(() => t, () => hooks);

    it("echo bot (magic number): reads, then sends our text back one second after delivery", async () => {
      const chat = await createChat(t, ["+15550100004"], "ping");
      assert.deepEqual((await received()).map((e) => e.event_type), ["chat.created", "message.sent"]);
      await advance(t, 999);
      assert.deepEqual(await received(), []);
      await advance(t, 1);
      const events = await received();
      assert.deepEqual(events.map((e) => e.event_type), ["message.read", "message.received"]);
      assert.equal(events[0]!.data.id, String(chat.chat_messages.id));
      assert.equal(events[1]!.data.text, "ping");
      assert.equal(events[1]!.data.from_phone, "+15550100004");
      assert.equal(events[1]!.data.chat_id, String(chat.id));
      const messages = await listMessages(t, chat.id);
      assert.deepEqual(messages.map((m) => [m.sent_from, m.text, m.is_read]), [
        [OUR_NUMBER, "ping", true],
        ["+15550100004", "ping", false],
      ]);
      assert.equal(Date.parse(messages[1].sent_at) - Date.parse(messages[0].sent_at), 1000);
    });

    it("scripted replies: the n-th message gets the n-th reply after its delay, then silence", async () => {
      const bot = "+15551230301";
      await putProfile(t, bot, {
        read_after_ms: 500,
        auto_reply: {
          type: "script",
          replies: [
            { text: "Which size?", delay_ms: 2000 },
            { text: "Done, see you Friday.", delay_ms: 30_000 },
          ],
        },
      });
      const chat = await createChat(t, [bot], "I'd like to order a cake");
      await received();
      await advance(t, 1999);
      assert.deepEqual((await received()).map((e) => e.event_type), ["message.read"], "read at 500 ms, no reply yet");
      await advance(t, 1);
      let events = await received();
      assert.deepEqual(events.map((e) => [e.event_type, e.data.text]), [["message.received", "Which size?"]]);

      const second = await sendMessage(t, chat.id, { text: "Large, please" });
      assert.equal(second.status, 201);
      await advance(t, 29_999);
      assert.deepEqual((await received()).map((e) => e.event_type), ["message.sent", "message.read"]);
      await advance(t, 1);
      events = await received();
      assert.deepEqual(events.map((e) => [e.event_type, e.data.text]), [["message.received", "Done, see you Friday."]]);
      assert.equal((await getProfile(t, bot)).script_position, 2);

      await sendMessage(t, chat.id, { text: "Thanks!" });
      await advance(t, 3_600_000);
      assert.deepEqual((await received()).map((e) => e.event_type), ["message.sent", "message.read"], "the script is over");

      const reset = await putProfile(t, bot, { read_after_ms: null });
      assert.equal(reset.script_position, 0, "setting the profile starts the script over");
      await sendMessage(t, chat.id, { text: "One more thing" });
      await advance(t, 2000);
      assert.deepEqual((await received()).map((e) => e.data.text ?? e.event_type), ["One more thing", "Which size?"]);
    });

    it("a looping script starts over; the magic scripted number works without setup", async () => {
      const looper = "+15551230302";
      await putProfile(t, looper, { auto_reply: { type: "script", loop: true, replies: ["yes", "no"] } });
      const chat = await createChat(t, [looper], "1");
      await sendMessage(t, chat.id, { text: "2" });
      await sendMessage(t, chat.id, { text: "3" });
      await advance(t, 0);
      const replies = (await received()).filter((e) => e.event_type === "message.received").map((e) => e.data.text);
      assert.deepEqual(replies, ["yes", "no", "yes"]);

      const magic = await createChat(t, ["+15550100009"], "Hello there");
      await advance(t, 2000);
      const events = await received();
      assert.deepEqual(events.map((e) => e.event_type), ["chat.created", "message.sent", "message.read", "message.received"]);
      assert.equal(events[3]!.data.text, "Hi! Who is this?");
      assert.equal(events[3]!.data.chat_id, String(magic.id));
    });

    it("tapback fan (magic number): loves each message two seconds after delivery", async () => {
      const chat = await createChat(t, ["+15550100008"], "Big news");
      await received();
      await advance(t, 2000);
      const [event] = await received();
      assert.equal(event!.event_type, "reaction.received");
      assert.equal(event!.data.reaction, "love");
      assert.equal(event!.data.chat_message_id, String(chat.chat_messages.id));
      const message = await getMessage(t, chat.id, chat.chat_messages.id);
      assert.deepEqual(message.reactions.map((r: { reaction: string; from_phone: string }) => [r.reaction, r.from_phone]), [
        ["love", "+15550100008"],
      ]);
    });

    it("draws jitter from the seeded random source: the same seed gives the same delays", async () => {
      const delays = async (seed: string) => {
        const app = await startSandbox(dialect, { RANDOM_SEED: seed });
        try {
          const recipient = "+15551230303";
          const put = await app.request("PUT", `/openlinq/v1/handles/${encodeURIComponent(recipient)}`, {
            body: { latency_ms: 1000, jitter_ms: 5000 },
          });
          assert.equal(put.status, 200, put.raw);
          const chat = await createChat(app, [recipient], "first");
          const ids = [chat.chat_messages.id];
          for (const text of ["second", "third", "fourth"]) ids.push((await sendMessage(app, chat.id, { text })).body.data.id);
          await advance(app, 6000);
          const messages = await Promise.all(ids.map((id) => getMessage(app, chat.id, id)));
          return messages.map((m) => Date.parse(m.delivered_at) - Date.parse(m.sent_at));
        } finally {
          await app.close();
        }
      };
      const first = await delays("12345");
      assert.deepEqual(await delays("12345"), first);
      assert.ok(first.every((d) => d >= 1000 && d <= 6000), `delays within latency + jitter: ${first}`);
      assert.ok(new Set(first).size > 1, `jitter varies the delays: ${first}`);
    });
  });
}
