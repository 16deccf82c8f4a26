import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS } from "./helpers/app.ts";
import { OUR_NUMBER, startV3App, text, type V3TestApp } from "./helpers/v3.ts";

const V2 = "/api/partner/v2";
const valueOf = (part: unknown) => (part as { value: string }).value;

for (const dialect of DIALECTS) {
  describe(`V2 and V3 share chats and messages (${dialect})`, () => {
    let app: V3TestApp;
    before(async () => {
      app = await startV3App(dialect);
    });
    after(() => app.close());

    it("a chat created through V2 is read and answered through V3, and V2 sees the answer", async () => {
      const created = await app.t.request("POST", `${V2}/chats`, {
        body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550050001"] }, message: { text: "from V2" } },
      });
      assert.equal(created.status, 200, created.raw);
      const v2ChatId = created.body.data.chat.id;
      const v3Chats = await app.client.chats.listChats({ to: "+15550050001" });
      assert.equal(v3Chats.chats.length, 1);
      const chat = v3Chats.chats[0]!;
      const messages = await app.client.chats.messages.list(chat.id);
      assert.deepEqual(messages.messages.map((m) => valueOf(m.parts?.[0])), ["from V2"]);
      await app.client.chats.messages.send(chat.id, {
        message: { parts: [{ type: "text", value: "from V3" }], reply_to: { message_id: messages.messages[0]!.id } },
      });
      const v2Messages = await app.t.request("GET", `${V2}/chats/${v2ChatId}/chat_messages?sort=asc`);
      assert.deepEqual(v2Messages.body.data.map((m: { text: string }) => m.text), ["from V2", "from V3"]);
      const v2Chat = await app.t.request("GET", `${V2}/chats/${v2ChatId}`);
      assert.equal(JSON.stringify(v2Chat.body).includes('"message_count":2'), true, v2Chat.raw);
    });

    it("a chat created through V3 is read and answered through V2, and V3 sees the answer", async () => {
      const { chat } = await app.client.chats.create({
        from: OUR_NUMBER,
        to: ["+15550050002"],
        message: text("hello"),
      });
      const found = await app.t.request(
        "GET",
        `${V2}/chats/find?phone_number=${encodeURIComponent(OUR_NUMBER)}&phone_numbers[]=${encodeURIComponent("+15550050002")}`,
      );
      assert.equal(found.status, 200, found.raw);
      const v2ChatId = found.body.data.chat.id;
      assert.ok(Number.isInteger(v2ChatId), found.raw);
      const v2Messages = await app.t.request("GET", `${V2}/chats/${v2ChatId}/chat_messages`);
      assert.deepEqual(v2Messages.body.data.map((m: { text: string }) => m.text), ["hello"]);
      const reply = await app.t.request("POST", `${V2}/chats/${v2ChatId}/chat_messages`, { body: { message: { text: "answer from V2" } } });
      assert.equal(reply.status, 201, reply.raw);
      const v3Messages = await app.client.chats.messages.list(chat.id);
      assert.deepEqual(v3Messages.messages.map((m) => valueOf(m.parts?.[0])), ["answer from V2", "hello"]);
      const v2Id = reply.body.data?.id ?? reply.body.id;
      assert.notEqual(String(v3Messages.messages[0]!.id), String(v2Id), "each face shows its own ids");
      // The V2 edit shows in V3, the V3 edit in V2.
      await app.t.request("POST", `${V2}/chats/${v2ChatId}/chat_messages/${v2Id}/edit`, { body: { text: "edited in V2" } });
      assert.equal(valueOf((await app.client.messages.retrieve(v3Messages.messages[0]!.id)).parts?.[0]), "edited in V2");
      await app.client.messages.update(v3Messages.messages[1]!.id, { text: "edited in V3" });
      const after = await app.t.request("GET", `${V2}/chats/${v2ChatId}/chat_messages?sort=asc`);
      assert.deepEqual(after.body.data.map((m: { text: string }) => m.text), ["edited in V3", "edited in V2"]);
    });
  });
}
