import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";

for (const dialect of DIALECTS) {
  describe(`chats (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(async () => {
      await t.close();
    });

    it("creates a chat with the quickstart body and answers seed and reference shapes", async () => {
      const res = await t.request("POST", "/api/partner/v2/chats", {
        body: {
          phone_numbers: ["+15551234567"],
          message: { text: "Hello! This is my first message via the Linq API." },
          phone_number: OUR_NUMBER,
        },
      });
      assert.equal(res.status, 200);
      const data = res.body.data;
      assert.equal(data.chat.display_name, "+1 (555) 123-4567");
      assert.equal(data.chat.service, "iMessage");
      assert.equal(data.chat.group, false);
      assert.equal(data.chat.message_count, 1);
      assert.equal(data.message.delivery_status, "delivered");
      assert.equal(data.message.text, "Hello! This is my first message via the Linq API.");
      assert.equal(data.id, data.chat.id);
      assert.equal(data.chat_messages.id, data.message.id);
      assert.deepEqual(
        data.chat_handles.map((h: { phone_number: string }) => h.phone_number),
        ["+15551234567"],
      );
    });
  });
}
