import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { V2, assertRenderError, countChats, createChat, listMessages, sendMessage } from "./helpers/v2.ts";

/**
 * An idempotency key names one message. Repeating it for the same chat answers that message
 * again; using it for another chat is a mistake the caller must hear about (409), not a
 * 200 carrying some other chat's message.
 */
for (const dialect of DIALECTS) {
  describe(`idempotency keys across chats (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(() => t.close());

    it("a key used in chat A, sent with a message to chat B, is a 409 and nothing is sent to B", async () => {
      const a = await createChat(t, ["+15553330001"], "in A", { idempotencyKey: "key-a-1" });
      const b = await createChat(t, ["+15553330002"], "in B");
      const res = await sendMessage(t, b.id, { text: "meant for B", idempotency_key: "key-a-1" });
      assertRenderError(res, 409, /idempotency_key "key-a-1" was already used .* in chat \d+/);
      assert.deepEqual((await listMessages(t, b.id)).map((m) => m.text), ["in B"]);
      assert.deepEqual((await listMessages(t, a.id)).map((m) => m.text), ["in A"]);
    });

    it("a key reused in the same chat still answers the first message, unchanged", async () => {
      const chat = await createChat(t, ["+15553330003"], "first");
      const first = await sendMessage(t, chat.id, { text: "once", idempotency_key: "key-same-1" });
      assert.equal(first.status, 201, first.raw);
      const again = await sendMessage(t, chat.id, { text: "twice?", idempotency_key: "key-same-1" });
      assert.ok(again.status < 300, again.raw);
      assert.equal(again.body.data.id, first.body.data.id);
      assert.equal(again.body.data.text, "once");
    });

    it("POST /chats with new recipients and a used key is a 409 and creates no chat; the same recipients replay", async () => {
      const first = await createChat(t, ["+15553330004"], "hello", { idempotencyKey: "key-chat-1" });
      const before = await countChats(t);
      const other = await t.request("POST", `${V2}/chats`, {
        body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15553330005"] }, message: { text: "new person", idempotency_key: "key-chat-1" } },
      });
      assertRenderError(other, 409, /idempotency_key/);
      assert.equal(await countChats(t), before, "no chat was created");
      const replay = await createChat(t, ["+15553330004"], "hello again", { idempotencyKey: "key-chat-1" });
      assert.equal(replay.id, first.id);
      assert.equal(replay.chat_messages.id, first.chat_messages.id);
    });
  });
}
