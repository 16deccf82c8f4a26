import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS } from "./helpers/app.ts";
import { createManualClock } from "./helpers/manual-clock.ts";
import { expectV3Error, OUR_NUMBER, startV3App, text, type V3TestApp } from "./helpers/v3.ts";

const valueOf = (part: unknown) => (part as { value: string }).value;

for (const dialect of DIALECTS) {
  describe(`V3 messages through the official SDK (${dialect})`, () => {
    let app: V3TestApp;
    before(async () => {
      app = await startV3App(dialect);
    });
    after(() => app.close());

    it("sends with automatic line selection (202): a new chat first, the same chat afterwards", async () => {
      const { data: first, response } = await app.client.messages
        .create({ to: ["+15550010001"], message: text("auto one") })
        .withResponse();
      assert.equal(response.status, 202);
      assert.equal(first.created_new_chat, true);
      assert.equal(first.from, OUR_NUMBER);
      assert.deepEqual(first.from_selection, { reason: "new_best_number", reused_existing_chat: false });
      assert.equal(first.is_group, false);
      assert.equal(first.previous_chat_id, null);
      assert.equal(valueOf(first.message.parts[0]), "auto one");
      const second = await app.client.messages.create({ to: ["+15550010001"], message: text("auto two") });
      assert.equal(second.chat_id, first.chat_id);
      assert.equal(second.created_new_chat, false);
      assert.deepEqual(second.from_selection, { reason: "reused_active_chat", reused_existing_chat: true });
      // A link is allowed here even in a new chat.
      const link = await app.client.messages.create({
        to: ["+15550010002"],
        message: { parts: [{ type: "link", value: "https://example.com/page" }] },
      });
      assert.deepEqual(link.message.parts, [{ type: "link", value: "https://example.com/page", reactions: [] }]);
      await expectV3Error(app.client.messages.create({ to: ["5550010003"], message: text("x") }), 400, 1002);
    });

    it("honours the Idempotency-Key header: the same message back, nothing sent twice", async () => {
      const first = await app.client.messages.create({
        to: ["+15550011001"],
        message: text("once only"),
        "Idempotency-Key": "auto-send-key-1",
      });
      const again = await app.client.messages.create({
        to: ["+15550011001"],
        message: text("once only"),
        "Idempotency-Key": "auto-send-key-1",
      });
      assert.equal(again.message.id, first.message.id);
      const listed = await app.client.chats.messages.list(first.chat_id);
      assert.equal(listed.messages.length, 1);
      await expectV3Error(
        app.client.messages.create({ to: ["+15550011001"], message: text("x"), "Idempotency-Key": "has spaces" }),
        400,
        1005,
      );
    });

    it("gets, edits a text part, and deletes a message", async () => {
      const sent = await app.client.messages.create({
        to: ["+15550012001"],
        message: text("before edit"),
      });
      const got = await app.client.messages.retrieve(sent.message.id);
      assert.equal(got.id, sent.message.id);
      assert.equal(got.chat_id, sent.chat_id);
      assert.equal(got.is_from_me, true);
      assert.equal(got.from, OUR_NUMBER);
      assert.equal(typeof got.updated_at, "string");
      const edited = await app.client.messages.update(sent.message.id, { text: "after edit", part_index: 0 });
      assert.equal(valueOf(edited.parts?.[0]), "after edit");
      assert.equal(valueOf((await app.client.messages.retrieve(sent.message.id)).parts?.[0]), "after edit");
      await expectV3Error(app.client.messages.update(sent.message.id, { text: "x", part_index: 3 }), 400, 1005);
      const { response } = await app.client.messages.delete(sent.message.id).withResponse();
      assert.equal(response.status, 204);
      await expectV3Error(app.client.messages.retrieve(sent.message.id), 404, 2002);
      await expectV3Error(app.client.messages.delete(sent.message.id), 404, 2002);
    });

    it("adds and removes reactions on a part, custom emoji included", async () => {
      const sent = await app.client.messages.create({ to: ["+15550013001"], message: text("react to me") });
      const { data: ack, response } = await app.client.messages
        .addReaction(sent.message.id, { operation: "add", type: "love" })
        .withResponse();
      assert.equal(response.status, 202);
      assert.equal(ack.status, "accepted");
      let got = await app.client.messages.retrieve(sent.message.id);
      const reactions = (got.parts?.[0] as { reactions: { type: string; is_me: boolean; handle: { handle: string } }[] }).reactions;
      assert.deepEqual(reactions.map((r) => [r.type, r.is_me, r.handle.handle]), [["love", true, OUR_NUMBER]]);
      await app.client.messages.addReaction(sent.message.id, { operation: "add", type: "custom", custom_emoji: "🎉" });
      got = await app.client.messages.retrieve(sent.message.id);
      const custom = (got.parts?.[0] as { reactions: { type: string; custom_emoji: string | null }[] }).reactions;
      assert.deepEqual(custom.map((r) => [r.type, r.custom_emoji]), [["custom", "🎉"]], "one reaction per part: custom replaced love");
      await app.client.messages.addReaction(sent.message.id, { operation: "remove", type: "custom", custom_emoji: "🎉" });
      got = await app.client.messages.retrieve(sent.message.id);
      assert.deepEqual((got.parts?.[0] as { reactions: unknown[] }).reactions, []);
      await expectV3Error(app.client.messages.addReaction(sent.message.id, { operation: "add", type: "custom" }), 400, 1005);
      await expectV3Error(app.client.messages.addReaction(sent.message.id, { operation: "add", type: "sticker" }), 400, 1005);
      await expectV3Error(
        app.client.messages.addReaction(sent.message.id, { operation: "add", type: "like", part_index: 4 }),
        400,
        1005,
      );
      await expectV3Error(
        app.client.messages.addReaction("00000000-0000-4000-8000-000000000000", { operation: "add", type: "like" }),
        404,
        2002,
      );
      // @ts-expect-error: an unknown reaction type
      await expectV3Error(app.client.messages.addReaction(sent.message.id, { operation: "add", type: "wave" }), 400, 1003);
    });

    it("lists a thread: the message that started it and every reply, in either order", async () => {
      const root = await app.client.messages.create({ to: ["+15550014001"], message: text("root") });
      const reply = await app.client.chats.messages.send(root.chat_id, {
        message: { ...text("reply"), reply_to: { message_id: root.message.id } },
      });
      await app.client.chats.messages.send(root.chat_id, {
        message: { ...text("reply to reply"), reply_to: { message_id: reply.message.id } },
      });
      await app.client.chats.messages.send(root.chat_id, { message: text("not in the thread") });
      const asc: string[] = [];
      for await (const m of app.client.messages.listMessagesThread(reply.message.id, { limit: 2 })) asc.push(valueOf(m.parts?.[0]));
      assert.deepEqual(asc, ["root", "reply", "reply to reply"]);
      const desc = await app.client.messages.listMessagesThread(root.message.id, { order: "desc" });
      assert.deepEqual(desc.messages.map((m) => valueOf(m.parts?.[0])), ["reply to reply", "reply", "root"]);
      const alone = await app.client.messages.listMessagesThread((await app.client.messages.create({ to: ["+15550014002"], message: text("alone") })).message.id);
      assert.equal(alone.messages.length, 1);
    });
  });

  describe(`V3 message edits keep iMessage's limits (${dialect})`, () => {
    const clock = createManualClock();
    let app: V3TestApp;
    before(async () => {
      app = await startV3App(dialect, { overrides: { clock } });
    });
    after(() => app.close());

    it("allows five edits, refuses a sixth, and refuses any edit 15 minutes after sending", async () => {
      const sent = await app.client.messages.create({ to: ["+15550013001"], message: text("draft") });
      for (let edit = 1; edit <= 5; edit += 1) {
        await app.client.messages.update(sent.message.id, { text: `edit ${edit}` });
      }
      const sixth = await expectV3Error(app.client.messages.update(sent.message.id, { text: "edit 6" }), 400, 1005);
      assert.match(JSON.stringify(sixth.error), /edited 5 times/);
      assert.equal(valueOf((await app.client.messages.retrieve(sent.message.id)).parts?.[0]), "edit 5");

      const late = await app.client.messages.create({ to: ["+15550013001"], message: text("sent a while ago") });
      clock.advance(15 * 60_000 - 1000);
      await app.client.messages.update(late.message.id, { text: "still in time" });
      clock.advance(2000);
      const tooLate = await expectV3Error(app.client.messages.update(late.message.id, { text: "too late" }), 400, 1005);
      assert.match(JSON.stringify(tooLate.error), /15 minutes/);
      assert.equal(valueOf((await app.client.messages.retrieve(late.message.id)).parts?.[0]), "still in time");
    });
  });
}
