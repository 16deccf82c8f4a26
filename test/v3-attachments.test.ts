import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS } from "./helpers/app.ts";
import { JPG, PNG } from "./fixtures/media.ts";
import { expectV3Error, OUR_NUMBER, startV3App, text, type V3TestApp } from "./helpers/v3.ts";

for (const dialect of DIALECTS) {
  describe(`V3 attachments, voice memos, contact cards and location (${dialect})`, () => {
    let app: V3TestApp;
    before(async () => {
      app = await startV3App(dialect);
    });
    after(() => app.close());

    async function upload(data: Buffer, contentType: string, filename: string) {
      const created = await app.client.attachments.create({
        filename,
        content_type: contentType as "image/png",
        size_bytes: data.byteLength,
      });
      const put = await fetch(created.upload_url, { method: created.http_method, headers: created.required_headers, body: new Uint8Array(data) });
      assert.equal(put.status, 200, await put.text());
      return created;
    }

    it("uploads through a presigned URL of this server, then sends the file as a media part", async () => {
      const created = await app.client.attachments.create({ filename: "pic.png", content_type: "image/png", size_bytes: PNG.byteLength });
      assert.equal(created.http_method, "PUT");
      assert.deepEqual(created.required_headers, { "Content-Type": "image/png" });
      assert.ok(created.upload_url.startsWith(app.t.openlinq.baseUrl()));
      const expiresIn = Date.parse(created.expires_at) - Date.now();
      assert.ok(expiresIn > 14 * 60_000 && expiresIn <= 15 * 60_000, `expires in ${expiresIn} ms`);
      assert.equal((await app.client.attachments.retrieve(created.attachment_id)).status, "pending");

      // Not yet uploaded: a message cannot use it.
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550040001"], message: text("files coming") });
      await expectV3Error(
        app.client.chats.messages.send(chat.id, { message: { parts: [{ type: "media", attachment_id: created.attachment_id }] } }),
        404,
        2007,
      );

      const wrongType = await fetch(created.upload_url, { method: "PUT", headers: { "Content-Type": "image/jpeg" }, body: new Uint8Array(PNG) });
      assert.equal(wrongType.status, 422);
      const tooBig = await fetch(created.upload_url, {
        method: "PUT",
        headers: { "Content-Type": "image/png" },
        body: new Uint8Array(Buffer.concat([PNG, PNG])),
      });
      assert.equal(tooBig.status, 413);
      const badSecret = await fetch(created.upload_url.replace(/\/[^/]+$/, "/not-the-secret"), {
        method: "PUT",
        headers: { "Content-Type": "image/png" },
        body: new Uint8Array(PNG),
      });
      assert.equal(badSecret.status, 404);
      const ok = await fetch(created.upload_url, { method: "PUT", headers: { "Content-Type": "image/png" }, body: new Uint8Array(PNG) });
      assert.equal(ok.status, 200);
      const again = await fetch(created.upload_url, { method: "PUT", headers: { "Content-Type": "image/png" }, body: new Uint8Array(PNG) });
      assert.equal(again.status, 409, "an upload URL takes one file");

      const info = await app.client.attachments.retrieve(created.attachment_id);
      assert.equal(info.status, "complete");
      assert.equal(info.size_bytes, PNG.byteLength);
      assert.equal(info.content_type, "image/png");
      assert.deepEqual(Buffer.from(await (await fetch(info.download_url!)).arrayBuffer()), PNG);

      const sent = await app.client.chats.messages.send(chat.id, {
        message: { parts: [{ type: "text", value: "look" }, { type: "media", attachment_id: created.attachment_id }] },
      });
      const media = sent.message.parts[1] as { id: string; url: string; filename: string; mime_type: string; size_bytes: number };
      assert.equal(media.id, created.attachment_id, "the first message to use an upload keeps its id");
      assert.equal(media.filename, "pic.png");
      assert.equal(media.mime_type, "image/png");
      assert.equal(media.size_bytes, PNG.byteLength);
      assert.deepEqual(Buffer.from(await (await fetch(media.url)).arrayBuffer()), PNG);

      const reused = await app.client.chats.messages.send(chat.id, {
        message: { parts: [{ type: "media", attachment_id: created.attachment_id }] },
      });
      const second = reused.message.parts[0] as { id: string; url: string };
      assert.notEqual(second.id, created.attachment_id);
      assert.deepEqual(Buffer.from(await (await fetch(second.url)).arrayBuffer()), PNG);

      // V2 sees the same message: its text and its attachment.
      const v2 = await app.t.request("GET", `/api/partner/v2/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`);
      const v2Chat = v2.body.data.find((c: { chat_handles: { phone_number: string }[] }) =>
        c.chat_handles.some((h) => h.phone_number === "+15550040001"),
      );
      const v2Messages = await app.t.request("GET", `/api/partner/v2/chats/${v2Chat.id}/chat_messages`);
      const look = v2Messages.body.data.find((m: { text: string }) => m.text === "look");
      assert.deepEqual(look.attachments.map((a: { id: string; filename: string }) => [a.id, a.filename]), [[created.attachment_id, "pic.png"]]);
    });

    it("refuses bad announcements and unknown ids with V3 codes", async () => {
      await expectV3Error(
        app.client.attachments.create({ filename: "x.exe", content_type: "application/x-msdownload" as "image/png", size_bytes: 10 }),
        400,
        1003,
      );
      await expectV3Error(
        app.client.attachments.create({ filename: "big.mp4", content_type: "video/mp4", size_bytes: 100 * 1024 * 1024 + 1 }),
        400,
        1003,
      );
      await expectV3Error(app.client.attachments.retrieve("00000000-0000-4000-8000-000000000000"), 404, 2003);
      await expectV3Error(app.client.attachments.delete("not-a-uuid"), 400, 1005);
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550040002"], message: text("hello") });
      await expectV3Error(
        app.client.chats.messages.send(chat.id, {
          message: { parts: [{ type: "media", attachment_id: "00000000-0000-4000-8000-000000000000" }] },
        }),
        404,
        2003,
      );
      const other = await app.t.secondOrg();
      const mine = await upload(JPG, "image/jpeg", "a.jpg");
      await expectV3Error(app.clientFor(other.token).attachments.retrieve(mine.attachment_id), 404, 2003);
    });

    it("deletes an attachment for good; the legacy status update changes nothing", async () => {
      const created = await upload(JPG, "image/jpeg", "gone.jpg");
      const legacy = await app.client.put(`/v3/attachments/${created.attachment_id}`, { body: { status: "failed" } });
      assert.equal((legacy as { status: string }).status, "complete");
      const { response } = await app.client.attachments.delete(created.attachment_id).withResponse();
      assert.equal(response.status, 204);
      await expectV3Error(app.client.attachments.retrieve(created.attachment_id), 404, 2003);
      assert.equal((await fetch(created.download_url)).status, 404);
    });

    it("sends a voice memo from an uploaded audio file, and refuses other files", async () => {
      const audio = Buffer.from("fake m4a audio bytes");
      const memo = await upload(audio, "audio/x-m4a", "memo.m4a");
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550041001"], message: text("listen") });
      const { data, response } = await app.client.chats.sendVoicememo(chat.id, { attachment_id: memo.attachment_id }).withResponse();
      assert.equal(response.status, 202);
      assert.equal(data.voice_memo.from, OUR_NUMBER);
      assert.deepEqual(data.voice_memo.to, ["+15550041001"]);
      assert.equal(data.voice_memo.chat.id, chat.id);
      assert.equal(data.voice_memo.voice_memo.mime_type, "audio/x-m4a");
      assert.equal(data.voice_memo.voice_memo.size_bytes, audio.byteLength);
      const picture = await upload(PNG, "image/png", "not-audio.png");
      await expectV3Error(app.client.chats.sendVoicememo(chat.id, { attachment_id: picture.attachment_id }), 400, 5004);
      await expectV3Error(app.client.chats.sendVoicememo(chat.id, {}), 400, 1001);
    });

    it("sets up, reads and changes a line's contact card; sharing needs one", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550042001"], message: text("hi") });
      await expectV3Error(app.client.chats.shareContactCard(chat.id), 404, 2012);
      await expectV3Error(app.client.contactCard.update({ phone_number: OUR_NUMBER, first_name: "X" }), 404, 2012);
      const card = await app.client.contactCard.create({ phone_number: OUR_NUMBER, first_name: "Acme", last_name: "Support" });
      assert.deepEqual(card, { phone_number: OUR_NUMBER, first_name: "Acme", last_name: "Support", image_url: null, is_active: true });
      await expectV3Error(app.client.contactCard.create({ phone_number: OUR_NUMBER, first_name: "Again" }), 409, 2014);
      const changed = await app.client.contactCard.update({ phone_number: OUR_NUMBER, image_url: "https://example.com/logo.png" });
      assert.equal(changed.first_name, "Acme");
      assert.equal(changed.image_url, "https://example.com/logo.png");
      assert.deepEqual((await app.client.contactCard.retrieve()).contact_cards, [changed]);
      assert.deepEqual((await app.client.contactCard.retrieve({ phone_number: OUR_NUMBER })).contact_cards, [changed]);
      assert.equal((await app.client.chats.shareContactCard(chat.id).withResponse()).response.status, 204);
      await expectV3Error(app.client.contactCard.create({ phone_number: "+15550000000", first_name: "Nope" }), 403, 2006);
    });

    it("requests and reads locations in direct iMessage chats only", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550043001"], message: text("where?") });
      assert.equal((await app.client.chats.location.request(chat.id)).success, true);
      const location = await app.client.chats.location.retrieve(chat.id);
      assert.deepEqual(location, { success: true, data: { type: "FeatureCollection", features: [] } });
      const group = await app.client.chats.create({
        from: OUR_NUMBER,
        to: ["+15550043002", "+15550043003"],
        message: text("all of you"),
      });
      await expectV3Error(app.client.chats.location.request(group.chat.id), 409, 2016);
      const sms = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550100002"], message: text("sms") });
      await expectV3Error(app.client.chats.location.request(sms.chat.id), 409, 2017);
    });
  });
}
