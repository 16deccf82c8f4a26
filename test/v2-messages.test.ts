import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { createManualClock, type ManualClock } from "./helpers/manual-clock.ts";
import { V2, assertRenderError, createChat, listMessages, sendMessage } from "./helpers/v2.ts";

const ISO_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const dialect of DIALECTS) {
  describe(`V2 chat messages (${dialect})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    before(async () => {
      clock = createManualClock();
      t = await startTestApp(dialect, { overrides: { clock } });
    });
    after(async () => {
      await t.close();
    });

    describe("POST /chats/{chat_id}/chat_messages", () => {
      it("sends the reference JSON body {message:{…}} and answers 201 with the message", async () => {
        const chat = await createChat(t, ["+15551110001"]);
        const res = await sendMessage(t, chat.id, { text: "Hello, how are you?" });
        assert.equal(res.status, 201, res.raw);
        const message = res.body.data;
        assert.deepEqual(Object.keys(message).sort(), [
          "attachments",
          "chat_handle_id",
          "delivered_at",
          "delivery_status",
          "edited_at",
          "id",
          "is_read",
          "reactions",
          "sent_at",
          "sent_from",
          "text",
        ]);
        assert.equal(message.text, "Hello, how are you?");
        assert.equal(message.sent_from, OUR_NUMBER);
        assert.equal(message.delivery_status, "delivered");
        assert.match(message.sent_at, ISO_MILLIS);
        assert.match(message.delivered_at, ISO_MILLIS);
        assert.equal(message.edited_at, null);
        assert.equal(message.is_read, false);
        assert.equal(message.chat_handle_id, chat.chat_messages.chat_handle_id);
        assert.deepEqual(message.attachments, []);
        assert.deepEqual(message.reactions, []);
        const got = await t.request("GET", `${V2}/chats/${chat.id}`);
        assert.equal(got.body.data.message_count, 2);
      });

      it("sends the quickstart's flat JSON body {text}", async () => {
        const chat = await createChat(t, ["+15551110002"]);
        const res = await t.request("POST", `${V2}/chats/${chat.id}/chat_messages`, { body: { text: "flat" } });
        assert.equal(res.status, 201, res.raw);
        assert.equal(res.body.data.text, "flat");
      });

      it("sends multipart/form-data with message[text] and message[idempotency_key]", async () => {
        const chat = await createChat(t, ["+15551110003"]);
        const parts: [string, string][] = [
          ["message[text]", "from a form"],
          ["message[idempotency_key]", "form-key-1"],
        ];
        const first = await t.multipart("POST", `${V2}/chats/${chat.id}/chat_messages`, parts);
        assert.equal(first.status, 201, first.raw);
        assert.equal(first.body.data.text, "from a form");
        const replay = await t.multipart("POST", `${V2}/chats/${chat.id}/chat_messages`, parts);
        assert.equal(replay.status, 200);
        assert.deepEqual(replay.body.data, first.body.data);
      });

      it("answers 200 with the original message for a repeated idempotency key, whatever the new body says", async () => {
        const chat = await createChat(t, ["+15551110004"]);
        const first = await sendMessage(t, chat.id, { text: "original", idempotency_key: "abc_123-XYZ" });
        assert.equal(first.status, 201);
        const replay = await sendMessage(t, chat.id, { text: "changed", idempotency_key: "abc_123-XYZ" });
        assert.equal(replay.status, 200);
        assert.deepEqual(replay.body.data, first.body.data);
        const other = await sendMessage(t, chat.id, { text: "new key", idempotency_key: "abc_123-XYZ-2" });
        assert.equal(other.status, 201);
        assert.deepEqual(
          (await listMessages(t, chat.id)).map((m) => m.text),
          ["Hello", "original", "new key"],
        );
        // The key also covers create chat: a replay there returns this message.
        const viaCreate = await createChat(t, ["+15551110004"], "again", { idempotencyKey: "abc_123-XYZ" });
        assert.equal(viaCreate.chat_messages.id, first.body.data.id);
      });

      it("concurrent identical requests send once: one 201, the rest 200 with the same message", async () => {
        const chat = await createChat(t, ["+15551110005"]);
        const responses = await Promise.all(
          Array.from({ length: 6 }, () => sendMessage(t, chat.id, { text: "exactly once", idempotency_key: "race-1" })),
        );
        assert.deepEqual(
          responses.map((r) => r.status).sort(),
          [200, 200, 200, 200, 200, 201],
        );
        assert.equal(new Set(responses.map((r) => r.body.data.id)).size, 1);
        assert.equal((await listMessages(t, chat.id)).length, 2);
        assert.equal((await t.request("GET", `${V2}/chats/${chat.id}`)).body.data.message_count, 2);
      });

      it("keys are per organization: another org's identical key sends its own message", async () => {
        const chat = await createChat(t, ["+15551110006"]);
        const mine = await sendMessage(t, chat.id, { text: "org one", idempotency_key: "shared-key" });
        const second = await t.secondOrg();
        const theirChat = await createChat(t, ["+15551110006"], "hi", { token: second.token, sendFrom: second.number });
        const theirs = await sendMessage(t, theirChat.id, { text: "org two", idempotency_key: "shared-key" }, second.token);
        assert.equal(theirs.status, 201);
        assert.notEqual(theirs.body.data.id, mine.body.data.id);
        assert.equal(theirs.body.data.text, "org two");
      });

      it("refuses bad requests, naming the field, and sends nothing", async () => {
        const chat = await createChat(t, ["+15551110007"]);
        const url = `${V2}/chats/${chat.id}/chat_messages`;
        const cases: [unknown, number, RegExp][] = [
          [{}, 400, /^text is required/],
          [{ message: {} }, 400, /^message\.text is required/],
          [{ text: "" }, 422, /^text is required/],
          [{ message: { text: "   " } }, 422, /^message\.text is required/],
          [{ message: { text: "x".repeat(20_001) } }, 422, /message\.text is longer than 20000/],
          [{ message: { text: "x", idempotency_key: "no spaces" } }, 422, /message\.idempotency_key must match/],
          [{ text: "x", idempotency_key: "x".repeat(256) }, 422, /^idempotency_key must match/],
          [{ message: { text: "x", attachment_urls: ["ftp://files.example/a.png"] } }, 422, /message\.attachment_urls: "ftp:/],
          [{ text: "x", attachment_urls: ["not a url"] }, 422, /^attachment_urls: "not a url"/],
          [{ message: "hello" }, 400, /message/],
          [{ message: { text: { nested: true } } }, 400, /text/],
          [{ message: { text: "x", attachment_urls: "https://a.example/x.png", attachments: {} } }, 400, /attachments/],
        ];
        for (const [body, status, detail] of cases) {
          assertRenderError(await t.request("POST", url, { body }), status, detail);
        }
        assertRenderError(
          await t.request("POST", url, { payload: "{text:", headers: { "content-type": "application/json" } }),
          400,
          /Malformed JSON/,
        );
        assertRenderError(
          await t.request("POST", url, { payload: "text=hi", headers: { "content-type": "text/plain" } }),
          415,
          /Content-Type/,
        );
        assertRenderError(await sendMessage(t, 424242, { text: "x" }), 404, /Chat not found/);
        assertRenderError(await sendMessage(t, 424242, { text: "x", idempotency_key: "unknown-chat" }), 404, /Chat not found/);
        assert.equal((await listMessages(t, chat.id)).length, 1);
      });
    });

    describe("GET /chats/{chat_id}/chat_messages", () => {
      let chatId: number;
      let stamps: string[];
      before(async () => {
        const chat = await createChat(t, ["+15552220001"], "m0");
        chatId = chat.id;
        stamps = [chat.chat_messages.sent_at];
        for (let i = 1; i < 5; i++) {
          clock.advance(60_000);
          stamps.push((await sendMessage(t, chatId, { text: `m${i}` })).body.data.sent_at);
        }
      });

      it("lists oldest first by default, newest first with sort=desc, with data + meta", async () => {
        const asc = await t.request("GET", `${V2}/chats/${chatId}/chat_messages`);
        assert.equal(asc.status, 200);
        assert.deepEqual(asc.body.meta, { page: 1, total_pages: 1, total_count: 5, per_page: 25 });
        assert.deepEqual(
          asc.body.data.map((m: any) => m.text),
          ["m0", "m1", "m2", "m3", "m4"],
        );
        const desc = await t.request("GET", `${V2}/chats/${chatId}/chat_messages?sort=desc&per_page=2&page=2`);
        assert.deepEqual(
          desc.body.data.map((m: any) => m.text),
          ["m2", "m1"],
        );
        assert.deepEqual(desc.body.meta, { page: 2, total_pages: 3, total_count: 5, per_page: 2 });
      });

      it("filters with before and after", async () => {
        const between = new Date(Date.parse(stamps[1]!) + 30_000).toISOString();
        const later = new Date(Date.parse(stamps[3]!) + 30_000).toISOString();
        const q = (query: string) => t.request("GET", `${V2}/chats/${chatId}/chat_messages?${query}`);
        assert.deepEqual(
          (await q(`after=${between}`)).body.data.map((m: any) => m.text),
          ["m2", "m3", "m4"],
        );
        assert.deepEqual(
          (await q(`before=${between}`)).body.data.map((m: any) => m.text),
          ["m0", "m1"],
        );
        const both = await q(`after=${between}&before=${later}`);
        assert.deepEqual(
          both.body.data.map((m: any) => m.text),
          ["m2", "m3"],
        );
        assert.equal(both.body.meta.total_count, 2);
      });

      it("clamps per_page to 100, answers an empty page past the end, refuses bad queries", async () => {
        const clamped = await t.request("GET", `${V2}/chats/${chatId}/chat_messages?per_page=1000`);
        assert.equal(clamped.body.meta.per_page, 100);
        const past = await t.request("GET", `${V2}/chats/${chatId}/chat_messages?page=3&per_page=5`);
        assert.equal(past.status, 200);
        assert.deepEqual(past.body.data, []);
        assert.equal(past.body.meta.total_count, 5);
        assertRenderError(await t.request("GET", `${V2}/chats/${chatId}/chat_messages?sort=sideways`), 400, /sort/);
        assertRenderError(await t.request("GET", `${V2}/chats/${chatId}/chat_messages?before=yesterday`), 400, /before/);
        assertRenderError(await t.request("GET", `${V2}/chats/${chatId}/chat_messages?page=0`), 400, /page/);
        assertRenderError(await t.request("GET", `${V2}/chats/777777/chat_messages`), 404, /Chat not found/);
      });
    });

    describe("GET, edit and DELETE one message", () => {
      it("gets a message; 404 when unknown or asked for under another chat", async () => {
        const a = await createChat(t, ["+15553330001"], "in a");
        const b = await createChat(t, ["+15553330002"], "in b");
        const got = await t.request("GET", `${V2}/chats/${a.id}/chat_messages/${a.chat_messages.id}`);
        assert.equal(got.status, 200);
        assert.deepEqual(got.body.data, a.chat_messages);
        assertRenderError(await t.request("GET", `${V2}/chats/${b.id}/chat_messages/${a.chat_messages.id}`), 404, /Message not found/);
        assertRenderError(await t.request("GET", `${V2}/chats/${a.id}/chat_messages/999999`), 404, /Message not found/);
        assertRenderError(await t.request("GET", `${V2}/chats/999999/chat_messages/${a.chat_messages.id}`), 404, /Chat not found/);
        assertRenderError(await t.request("GET", `${V2}/chats/${a.id}/chat_messages/x`), 400, /id/);
      });

      it("edits the text and sets edited_at", async () => {
        const chat = await createChat(t, ["+15553330003"], "typo");
        clock.advance(5_000);
        const url = `${V2}/chats/${chat.id}/chat_messages/${chat.chat_messages.id}`;
        const res = await t.request("POST", `${url}/edit`, { body: { text: "fixed" } });
        assert.equal(res.status, 200, res.raw);
        assert.equal(typeof res.body.message, "string");
        assert.deepEqual(res.body.data, { id: chat.chat_messages.id, text: "fixed" });
        const got = (await t.request("GET", url)).body.data;
        assert.equal(got.text, "fixed");
        assert.equal(got.edited_at, clock.now().toISOString());
        assert.equal(got.sent_at, chat.chat_messages.sent_at);
      });

      it("refuses bad edits without changing the message", async () => {
        const chat = await createChat(t, ["+15553330004"], "keep me");
        const url = `${V2}/chats/${chat.id}/chat_messages/${chat.chat_messages.id}/edit`;
        assertRenderError(await t.request("POST", url, { body: {} }), 400, /text/);
        assertRenderError(await t.request("POST", url, { body: { text: "" } }), 422, /text must not be empty/);
        assertRenderError(await t.request("POST", url, { body: { text: ["a", "b"] } }), 400, /text/);
        assertRenderError(await t.request("POST", `${V2}/chats/${chat.id}/chat_messages/999999/edit`, { body: { text: "x" } }), 404);
        const got = await t.request("GET", `${V2}/chats/${chat.id}/chat_messages/${chat.chat_messages.id}`);
        assert.equal(got.body.data.text, "keep me");
        assert.equal(got.body.data.edited_at, null);
      });

      it("refuses a sixth edit and an edit 15 minutes after sending, as iMessage does", async () => {
        const chat = await createChat(t, ["+15553330015"], "draft");
        const url = `${V2}/chats/${chat.id}/chat_messages/${chat.chat_messages.id}`;
        for (let edit = 1; edit <= 5; edit += 1) {
          assert.equal((await t.request("POST", `${url}/edit`, { body: { text: `edit ${edit}` } })).status, 200);
        }
        assertRenderError(await t.request("POST", `${url}/edit`, { body: { text: "edit 6" } }), 422, /edited 5 times/);
        const late = await createChat(t, ["+15553330016"], "old news");
        clock.advance(15 * 60_000 + 1000);
        const lateUrl = `${V2}/chats/${late.id}/chat_messages/${late.chat_messages.id}`;
        assertRenderError(await t.request("POST", `${lateUrl}/edit`, { body: { text: "too late" } }), 422, /15 minutes/);
        assert.equal((await t.request("GET", url)).body.data.text, "edit 5");
        assert.equal((await t.request("GET", lateUrl)).body.data.text, "old news");
      });

      it("deletes a message: 200 with a message, then 404; the chat count drops", async () => {
        const chat = await createChat(t, ["+15553330005"], "first");
        const second = (await sendMessage(t, chat.id, { text: "second" })).body.data;
        const url = `${V2}/chats/${chat.id}/chat_messages/${second.id}`;
        const res = await t.request("DELETE", url);
        assert.equal(res.status, 200);
        assert.deepEqual(Object.keys(res.body), ["message"]);
        assert.equal(typeof res.body.message, "string");
        assertRenderError(await t.request("GET", url), 404, /Message not found/);
        assertRenderError(await t.request("DELETE", url), 404, /Message not found/);
        assert.deepEqual(
          (await listMessages(t, chat.id)).map((m) => m.text),
          ["first"],
        );
        assert.equal((await t.request("GET", `${V2}/chats/${chat.id}`)).body.data.message_count, 1);
      });
    });
  });
}
