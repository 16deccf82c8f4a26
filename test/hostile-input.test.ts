import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, encodeMultipart, type TestApp } from "./helpers/app.ts";
import { startFileServer, type FileServer } from "./helpers/file-server.ts";
import { PNG } from "./fixtures/media.ts";
import { advance, putProfile, startSandbox } from "./helpers/sandbox.ts";
import { V2, assertRenderError, createChat, listMessages, sendMessage } from "./helpers/v2.ts";

/**
 * Input a fuzzer (or an attacker) sends: every one gets a 4xx in our error shape, never a
 * 500 and never Fastify's own body.
 */
for (const dialect of DIALECTS) {
  describe(`hostile input gets a 4xx in our shape (${dialect})`, () => {
    let t: TestApp;
    let cdn: FileServer;
    let chatId: number;
    before(async () => {
      t = await startSandbox(dialect);
      await t.openlinq.listen();
      cdn = await startFileServer({
        "/files/%E0%A4%A.png": { body: PNG, type: "image/png" },
        "/disposition": { body: PNG, type: "image/png", headers: { "content-disposition": "attachment; filename*=UTF-8''bad%E0%A4%A.png" } },
      });
      chatId = (await createChat(t, ["+15557770001"])).id;
    });
    after(async () => {
      await cdn.close();
      await t.close();
    });

    it("huge integers in the query, the path and the body answer like any number past the end, not a database error", async () => {
      const nines = "9".repeat(80);
      const emptyPages = [
        `${V2}/chats?phone_number=%2B19998887777&page=99999999999999999999999`,
        `${V2}/chats?phone_number=%2B19998887777&page=2147483647&per_page=100`,
        `${V2}/chats/${chatId}/chat_messages?page=${nines}`,
        `/openlinq/v1/events?page=99999999999999999999999`,
        
        `/openlinq/v1/inbox/chats?page=99999999999999999999999`,
      ];
      for (const url of emptyPages) {
        const res = await t.request("GET", url);
        assert.equal(res.status, 200, `${url}: ${res.raw}`);
        const items = res.body.data ?? res.body.events ?? res.body.chats;
        assert.deepEqual(Array.isArray(items) ? items : items?.chats, [], url);
      }
      for (const url of [`/openlinq/v1/events?page=1e400`, `${V2}/chats?phone_number=%2B19998887777&page=${"9".repeat(400)}`]) {
        assertRenderError(await t.request("GET", url), 400, /page must be a finite number/);
      }
      const clamped = await t.request("GET", `${V2}/chats?phone_number=%2B19998887777&per_page=${nines}`);
      assert.equal(clamped.status, 200, clamped.raw);
      assert.equal(clamped.body.meta.per_page, 100);
      for (const url of [`${V2}/chats/99999999999999999999999`, `${V2}/chats/${chatId}/chat_messages/${nines}`]) {
        assertRenderError(await t.request("GET", url), 404);
      }
      const inbound = await t.request("POST", "/openlinq/v1/simulate/inbound_message", {
        body: { from: "+15557770001", chat_id: 1e30, text: "hi" },
      });
      assertRenderError(inbound, 404, /Chat not found/);
    });

    it("a file spelled as JSON is no upload, and a name holding a lone surrogate still gets its links", async () => {
      const forged = await t.request("POST", "/openlinq/v1/inbox/uploads", {
        body: { file: { staged: { key: "../openlinq.db", size: 5 }, filename: "a.txt" } },
      });
      assertRenderError(forged, 400);
      const v3 = await t.request("POST", "/api/partner/v3/attachments", {
        token: null,
        headers: { authorization: `Bearer ${t.token}` },
        body: { filename: "broken \ud800 name.txt", content_type: "text/plain", size_bytes: 1 },
      });
      assert.equal(v3.status, 200, v3.raw);
      assert.match(v3.body.download_url, /broken%20%EF%BF%BD%20name\.txt$/);
    });

    it("an over-long path segment is a 414 and a bad percent-escape a 400, both in our shape", async () => {
      assertRenderError(await t.request("GET", `${V2}/chats/${"9".repeat(500)}`), 414, /too long/);
      assertRenderError(await t.request("GET", `${V2}/chats/%E0%A4%A`), 400, /percent-escape/);
    });

    it("truncated or malformed multipart is a 400 on every route that takes multipart", async () => {
      const { payload, contentType } = await encodeMultipart([
        ["message[text]", "hello"],
        ["message[attachments][]", { filename: "pixel.png", data: PNG, type: "image/png" }],
      ]);
      const truncated = payload.subarray(0, payload.byteLength - 60);
      const garbled = Buffer.concat([payload.subarray(0, 40), Buffer.from("\r\n\r\n--\r\n"), payload.subarray(40, 120)]);
      const routes = [
        ["POST", `${V2}/chats`],
        ["POST", `${V2}/chats/${chatId}/chat_messages`],
        ["POST", `${V2}/webhook_subscriptions`],
        ["POST", "/openlinq/v1/inbox/uploads"],
      ] as const;
      for (const [method, url] of routes) {
        for (const body of [truncated, garbled]) {
          const res = await t.request(method, url, { payload: body, headers: { "content-type": contentType } });
          assert.ok(res.status >= 400 && res.status < 500, `${method} ${url}: ${res.status} ${res.raw}`);
          assert.ok(Array.isArray(res.body?.errors) || res.body?.status === "error", `${url} answers in our shape: ${res.raw}`);
        }
      }
      assert.deepEqual((await listMessages(t, chatId)).length, 1, "nothing was written");
    });

    it("an attachment whose URL path or Content-Disposition name does not percent-decode is still stored", async () => {
      const res = await sendMessage(t, chatId, {
        text: "files",
        attachment_urls: [cdn.url("/files/%E0%A4%A.png"), cdn.url("/disposition")],
      });
      assert.equal(res.status, 201, res.raw);
      assert.deepEqual(
        res.body.data.attachments.map((a: { mime_type: string }) => a.mime_type),
        ["image/png", "image/png"],
      );
    });

    it("a simulated reply carrying such an attachment arrives instead of being dropped", async () => {
      const bot = "+15557770002";
      await putProfile(t, bot, {
        auto_reply: { type: "script", replies: [{ text: "here", delay_ms: 1000, attachment_urls: [cdn.url("/files/%E0%A4%A.png")] }] },
      });
      const chat = await createChat(t, [bot], "send me the file");
      await advance(t, 1000);
      const messages = await listMessages(t, chat.id);
      assert.deepEqual(
        messages.map((m) => [m.sent_from, m.text, m.attachments.length]),
        [
          [OUR_NUMBER, "send me the file", 0],
          [bot, "here", 1],
        ],
      );
    });
  });
}
