import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { V2, assertRenderError, createChat } from "./helpers/v2.ts";

for (const dialect of DIALECTS) {
  describe(`V2 reactions (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(async () => {
      await t.close();
    });

    const react = (messageId: number | string, body: unknown) =>
      t.request("POST", `${V2}/chat_messages/${messageId}/reactions`, { body });
    const messageOf = async (chat: any) =>
      (await t.request("GET", `${V2}/chats/${chat.id}/chat_messages/${chat.chat_messages.id}`)).body.data;

    it("adds a reaction with the quickstart body: 201 {data: Reaction}, readable by id and on the message", async () => {
      const chat = await createChat(t, ["+15556660001"]);
      const res = await react(chat.chat_messages.id, { type: "love", operation: "add" });
      assert.equal(res.status, 201, res.raw);
      const reaction = res.body.data;
      assert.deepEqual(Object.keys(reaction).sort(), [
        "chat_message_id",
        "created_at",
        "from_phone",
        "id",
        "is_from_me",
        "reaction",
        "sent_at",
        "updated_at",
      ]);
      assert.equal(reaction.chat_message_id, chat.chat_messages.id);
      assert.equal(reaction.reaction, "love");
      assert.equal(reaction.is_from_me, true);
      assert.equal(reaction.from_phone, OUR_NUMBER);
      const got = await t.request("GET", `${V2}/chat_message_reactions/${reaction.id}`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, { data: reaction });
      assert.deepEqual((await messageOf(chat)).reactions, [reaction]);
    });

    it("accepts every documented type; a new one replaces ours (one tapback per person), the same one is kept", async () => {
      const chat = await createChat(t, ["+15556660002"]);
      let previous: any;
      for (const type of ["love", "like", "dislike", "laugh", "emphasize", "question"]) {
        const res = await react(chat.chat_messages.id, { type, operation: "add" });
        assert.equal(res.status, 201, `${type}: ${res.raw}`);
        assert.deepEqual(
          (await messageOf(chat)).reactions.map((r: any) => r.reaction),
          [type],
        );
        if (previous) assertRenderError(await t.request("GET", `${V2}/chat_message_reactions/${previous.id}`), 404);
        previous = res.body.data;
      }
      const again = await react(chat.chat_messages.id, { type: "question", operation: "add" });
      assert.equal(again.status, 201);
      assert.deepEqual(again.body.data, previous);
      assert.equal((await messageOf(chat)).reactions.length, 1);
    });

    it("removes our reaction: 200 with the removed reaction; removing it again is 404", async () => {
      const chat = await createChat(t, ["+15556660003"]);
      const added = (await react(chat.chat_messages.id, { type: "laugh", operation: "add" })).body.data;
      const wrongType = await react(chat.chat_messages.id, { type: "love", operation: "remove" });
      assertRenderError(wrongType, 404, /love/);
      const removed = await react(chat.chat_messages.id, { type: "laugh", operation: "remove" });
      assert.equal(removed.status, 200, removed.raw);
      assert.deepEqual(removed.body.data, added);
      assert.deepEqual((await messageOf(chat)).reactions, []);
      assertRenderError(await t.request("GET", `${V2}/chat_message_reactions/${added.id}`), 404, /Reaction not found/);
      assertRenderError(await react(chat.chat_messages.id, { type: "laugh", operation: "remove" }), 404);
    });

    it("refuses bad requests without changing anything", async () => {
      const chat = await createChat(t, ["+15556660004"]);
      const id = chat.chat_messages.id;
      assert.match(assertRenderError(await react(id, { type: "hate", operation: "add" }), 422), /type must be one of love, like/);
      assertRenderError(await react(id, { type: "love", operation: "toggle" }), 422, /operation must be add or remove/);
      assertRenderError(await react(id, { operation: "add" }), 400, /type/);
      assertRenderError(await react(id, { type: "love" }), 400, /operation/);
      assertRenderError(await react(id, { type: ["love"], operation: { x: 1 } }), 400);
      assertRenderError(await react(id, undefined), 400);
      assertRenderError(await react(987654, { type: "love", operation: "add" }), 404, /message not found/i);
      assertRenderError(await react(99999999999, { type: "love", operation: "add" }), 404);
      assertRenderError(await react("abc", { type: "love", operation: "add" }), 400, /chat_message_id/);
      assertRenderError(await t.request("GET", `${V2}/chat_message_reactions/987654`), 404, /Reaction not found/);
      assertRenderError(await t.request("GET", `${V2}/chat_message_reactions/abc`), 400);
      assert.deepEqual((await messageOf(chat)).reactions, []);
    });
  });
}
