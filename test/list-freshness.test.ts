import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { createChat, listMessages, sendMessage, V2 } from "./helpers/v2.ts";
import { startV3App, text, type V3TestApp } from "./helpers/v3.ts";

/**
 * List answers are kept while the store is unchanged (src/http/plugins/read-cache.ts). These
 * ask the same pages again after a write made through this server, through another server on
 * the same store (another node on Postgres; another connection to the file on SQLite, as a
 * separate `openlinq worker` has), including writes to other tables the pages draw on.
 */
for (const dialect of DIALECTS) {
  describe(`list pages asked again after writes (${dialect})`, () => {
    let a: V3TestApp;
    let b: TestApp;
    before(async () => {
      a = await startV3App(dialect);
      b = await startTestApp(dialect, { nodeOf: a.t });
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    const chatsPage = `${V2}/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`;

    it("show what another server on the same store committed since they were last answered", async () => {
      const chat = await createChat(a.t, ["+15550030001"], "First, through A");
      const v3Chat = await a.client.chats.create({ from: OUR_NUMBER, to: ["+15550030002"], message: text("V3 first, through A") });
      for (let i = 0; i < 2; i++) {
        assert.deepEqual((await listMessages(a.t, chat.id)).map((m) => m.text), ["First, through A"]);
        assert.deepEqual(
          (await a.client.chats.messages.list(v3Chat.chat.id)).messages.map((m) => m.parts?.[0]),
          [{ type: "text", value: "V3 first, through A", text_decorations: null, reactions: [] }],
        );
      }
      const chatsBefore = (await a.t.request("GET", chatsPage)).raw;
      const v3ChatsBefore = await a.client.chats.listChats({ limit: 100 });

      assert.equal((await sendMessage(b, chat.id, { text: "Second, through B" })).status, 201);
      await b.request("POST", `/api/partner/v3/chats/${v3Chat.chat.id}/messages`, {
        token: null,
        headers: { authorization: `Bearer ${b.token}` },
        body: { message: text("V3 second, through B") },
      });

      assert.deepEqual((await listMessages(a.t, chat.id)).map((m) => m.text), ["First, through A", "Second, through B"]);
      assert.deepEqual(
        (await a.client.chats.messages.list(v3Chat.chat.id)).messages.map((m) => (m.parts?.[0] as { value: string }).value),
        ["V3 second, through B", "V3 first, through A"],
      );
      const chatsAfter = await a.t.request("GET", chatsPage);
      assert.notEqual(chatsAfter.raw, chatsBefore);
      assert.equal(chatsAfter.raw, (await b.request("GET", chatsPage)).raw, "both servers answer the same bytes");
      assert.deepEqual(
        chatsAfter.body.data.slice(0, 2).map((c: { id: number; message_count: number }) => [c.id === chat.id, c.message_count]),
        [
          [false, 2],
          [true, 2],
        ],
        "both chats counted their second message and moved to the front, the newest first",
      );
      const v3ChatsAfter = await a.client.chats.listChats({ limit: 100 });
      assert.equal(v3ChatsAfter.chats[0]!.id, v3Chat.chat.id);
      assert.notDeepEqual(v3ChatsAfter.chats, v3ChatsBefore.chats);
    });

    it("show a contact named on another server, and a message deleted on this one", async () => {
      const chat = await createChat(a.t, ["+15550030003"], "Before the contact");
      const listed = async () => (await a.t.request("GET", chatsPage)).body.data.find((c: { id: number }) => c.id === chat.id);
      const unnamed = (await listed()).display_name;
      assert.equal((await listed()).display_name, unnamed);
      const contact = await b.request("POST", `${V2}/contacts`, {
        body: { contact: { first_name: "Ada", last_name: "Lovelace", phone_number: "+15550030003" } },
      });
      assert.equal(contact.status, 201, contact.raw);
      assert.notEqual((await listed()).display_name, unnamed);
      assert.match((await listed()).display_name, /Ada/);

      const [message] = await listMessages(a.t, chat.id);
      assert.equal((await a.t.request("DELETE", `${V2}/chats/${chat.id}/chat_messages/${message.id}`)).status, 200);
      assert.deepEqual(await listMessages(a.t, chat.id), []);
    });
  });
}
