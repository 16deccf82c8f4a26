import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { startFileServer, type FileServer } from "./helpers/file-server.ts";
import { ELF, EXE, GIF, JPG, MEDIA, MP4, PDF, PNG } from "./fixtures/media.ts";

const HTML = "<!doctype html><title>Offer</title><script>alert(document.cookie)</script>";
import { V2, assertRenderError, countChats, createChat, listMessages, sendMessage } from "./helpers/v2.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Every stored attachment file under the data dir. */
function storedFiles(t: TestApp): string[] {
  const root = join(t.dataDir, "attachments");
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Downloads an attachment `url` over real HTTP, as a partner would. */
async function download(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type"), bytes: Buffer.from(await res.arrayBuffer()) };
}

for (const dialect of DIALECTS) {
  describe(`V2 attachments (${dialect})`, () => {
    let t: TestApp;
    let cdn: FileServer;
    before(async () => {
      t = await startTestApp(dialect);
      await t.openlinq.listen();
      cdn = await startFileServer({
        "/image.jpg": { body: JPG, type: "image/jpeg" },
        // Servers lie about types; the bytes decide.
        "/mislabelled": { body: GIF, type: "text/plain" },
        "/report.pdf": { body: PDF, type: "application/pdf" },
        "/download": { body: PNG, headers: { "content-disposition": 'attachment; filename="chart.png"' } },
        "/program": { body: ELF },
        "/page.html": { body: HTML, type: "text/html; charset=utf-8" },
        "/broken": { body: "oops", status: 500, type: "text/plain" },
      });
    });
    after(async () => {
      await cdn.close();
      await t.close();
    });

    it("uploads files as multipart message[attachments][]; the type comes from the bytes; each is served back", async () => {
      const chat = await createChat(t, ["+15554440001"]);
      const parts: [string, string | { filename: string; data: Buffer; type: string }][] = [["message[text]", "files"]];
      for (const file of MEDIA) parts.push(["message[attachments][]", { filename: file.filename, data: file.data, type: "application/octet-stream" }]);
      parts.push(["message[attachments][]", { filename: "photo.bin", data: PNG, type: "application/pdf" }]);
      const res = await t.multipart("POST", `${V2}/chats/${chat.id}/chat_messages`, parts);
      assert.equal(res.status, 201, res.raw);
      const attachments = res.body.data.attachments;
      assert.deepEqual(
        attachments.map((a: any) => a.mime_type),
        [...MEDIA.map((m) => m.mime), "image/png"],
      );
      assert.deepEqual(
        attachments.map((a: any) => a.filename),
        [...MEDIA.map((m) => m.filename), "photo.bin"],
      );
      const expected = [...MEDIA.map((m) => m.data), PNG];
      for (const [i, attachment] of attachments.entries()) {
        assert.match(attachment.id, UUID);
        assert.equal(attachment.file_size, expected[i]!.byteLength);
        const served = await download(attachment.url);
        assert.equal(served.status, 200);
        assert.equal(served.type, attachment.mime_type);
        assert.ok(served.bytes.equals(expected[i]!), `bytes of ${attachment.filename}`);
      }
      // The message keeps them.
      const got = await t.request("GET", `${V2}/chats/${chat.id}/chat_messages/${res.body.data.id}`);
      assert.deepEqual(got.body.data.attachments, attachments);
    });

    it("downloads the quickstart's attachment_urls (flat JSON) and stores the bytes", async () => {
      const chat = await createChat(t, ["+15554440002"]);
      const res = await t.request("POST", `${V2}/chats/${chat.id}/chat_messages`, {
        body: { text: "Check out this image!", attachment_urls: [cdn.url("/image.jpg"), cdn.url("/mislabelled")] },
      });
      assert.equal(res.status, 201, res.raw);
      const [jpg, gif] = res.body.data.attachments;
      assert.equal(jpg.mime_type, "image/jpeg");
      assert.equal(jpg.filename, "image.jpg");
      assert.equal(gif.mime_type, "image/gif");
      assert.ok((await download(jpg.url)).bytes.equals(JPG));
      assert.ok((await download(gif.url)).bytes.equals(GIF));
    });

    it("takes attachment URLs and uploads together in multipart, and URLs in JSON {message:{…}}", async () => {
      const chat = await createChat(t, ["+15554440003"]);
      const multipart = await t.multipart("POST", `${V2}/chats/${chat.id}/chat_messages`, [
        ["message[attachment_urls][]", cdn.url("/report.pdf")],
        ["message[attachment_urls][]", cdn.url("/download")],
        ["message[attachments][]", { filename: "clip.mp4", data: MP4, type: "video/mp4" }],
      ]);
      assert.equal(multipart.status, 201, multipart.raw);
      assert.equal(multipart.body.data.text, "");
      assert.deepEqual(
        multipart.body.data.attachments.map((a: any) => [a.filename, a.mime_type]).sort(),
        [
          ["chart.png", "image/png"],
          ["clip.mp4", "video/mp4"],
          ["report.pdf", "application/pdf"],
        ],
      );
      const json = await sendMessage(t, chat.id, { text: "pdf", attachment_urls: [cdn.url("/report.pdf")] });
      assert.equal(json.status, 201, json.raw);
      assert.equal(json.body.data.attachments[0].mime_type, "application/pdf");
    });

    it("reads one file sent as message[attachments] (no brackets) as a list of one; more than 10 files is a 422", async () => {
      const chat = await createChat(t, ["+15554440008"]);
      const one = await t.multipart("POST", `${V2}/chats/${chat.id}/chat_messages`, [
        ["message[attachments]", { filename: "dot.gif", data: GIF, type: "image/gif" }],
      ]);
      assert.equal(one.status, 201, one.raw);
      assert.equal(one.body.data.attachments[0].mime_type, "image/gif");
      const files = storedFiles(t).length;
      const many = await t.multipart(
        "POST",
        `${V2}/chats/${chat.id}/chat_messages`,
        Array.from({ length: 11 }, () => ["message[attachments][]", { filename: "dot.png", data: PNG }] as const),
      );
      assertRenderError(many, 422, /Too many files: a message carries at most 10 attachments/);
      assert.equal(storedFiles(t).length, files);
      assert.equal((await listMessages(t, chat.id)).length, 2);
    });

    it("create chat takes attachment URLs too", async () => {
      const res = await t.request("POST", `${V2}/chats`, {
        body: {
          send_from: OUR_NUMBER,
          chat: { phone_numbers: ["+15554440004"] },
          message: { text: "with a picture", attachment_urls: [cdn.url("/image.jpg")] },
        },
      });
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.data.chat_messages.attachments[0].mime_type, "image/jpeg");
    });

    it("accepts any file type, reporting what the bytes are; where they cannot tell, the claim or the name", async () => {
      const chat = await createChat(t, ["+15554440005"]);
      const upload = await t.multipart("POST", `${V2}/chats/${chat.id}/chat_messages`, [
        ["message[text]", "files of every kind"],
        ["message[attachments][]", { filename: "setup.exe", data: EXE, type: "application/octet-stream" }],
        ["message[attachments][]", { filename: "tool.png", data: ELF, type: "image/png" }],
        ["message[attachments][]", { filename: "page", data: Buffer.from(HTML), type: "text/html" }],
        ["message[attachments][]", { filename: "notes.md", data: Buffer.from("# Notes\n"), type: "application/octet-stream" }],
        ["message[attachments][]", { filename: "blob", data: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]) }],
        ["message[attachments][]", { filename: "fake.txt", data: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]), type: "text/plain" }],
      ]);
      assert.equal(upload.status, 201, upload.raw);
      assert.deepEqual(
        upload.body.data.attachments.map((a: any) => [a.filename, a.mime_type]),
        [
          ["setup.exe", "application/x-msdownload"],
          ["tool.png", "application/x-elf"],
          ["page", "text/html"],
          ["notes.md", "text/markdown"],
          ["blob", "application/octet-stream"],
          ["fake.txt", "application/octet-stream"],
        ],
      );
      const byUrl = await sendMessage(t, chat.id, { text: "x", attachment_urls: [cdn.url("/program"), cdn.url("/page.html")] });
      assert.equal(byUrl.status, 201, byUrl.raw);
      assert.deepEqual(byUrl.body.data.attachments.map((a: any) => a.mime_type), ["application/x-elf", "text/html"]);

      // Served back as what it is, but never able to run script on this origin.
      const page = await fetch(byUrl.body.data.attachments[1].url);
      assert.equal(page.headers.get("content-type"), "text/html");
      assert.equal(page.headers.get("content-security-policy"), "sandbox");
      assert.equal(page.headers.get("x-content-type-options"), "nosniff");
      assert.equal(await page.text(), HTML);
    });

    it("a URL that cannot be downloaded is a 4xx naming the URL; no chat and no message are created", async () => {
      const chats = await countChats(t);
      const files = storedFiles(t).length;
      const gone = await startFileServer({});
      const refusedUrl = gone.url("/image.jpg");
      await gone.close();
      for (const url of [cdn.url("/missing.png"), cdn.url("/broken"), refusedUrl]) {
        const create = await t.request("POST", `${V2}/chats`, {
          body: {
            send_from: OUR_NUMBER,
            chat: { phone_numbers: ["+15554440006"] },
            message: { text: "x", attachment_urls: [cdn.url("/image.jpg"), url] },
          },
        });
        const detail = assertRenderError(create, 422);
        assert.ok(detail.includes(url), detail);
      }
      assert.equal(await countChats(t), chats);
      const found = await t.request("GET", `${V2}/chats/find?phone_number=${encodeURIComponent(OUR_NUMBER)}&phone_numbers[]=%2B15554440006`);
      assert.equal(found.body.data.chat, null);

      const chat = await createChat(t, ["+15554440007"]);
      const send = await sendMessage(t, chat.id, { text: "x", attachment_urls: [cdn.url("/missing.png")] });
      assert.match(assertRenderError(send, 422), /missing\.png.*HTTP 404/);
      assert.equal((await listMessages(t, chat.id)).length, 1);
      assert.equal(storedFiles(t).length, files);
    });

    it("an attachment url that is not stored answers 404", async () => {
      const res = await t.request("GET", "/openlinq/v1/attachments/3f2b8e52-8c1e-4d8a-9b7e-2d1f0c9a7b6e/x.png", { token: null });
      assertRenderError(res, 404, /Attachment not found/);
    });
  });

  describe(`V2 attachment size cap (${dialect})`, () => {
    const LIMIT = 1024;
    let t: TestApp;
    let cdn: FileServer;
    const atLimit = Buffer.concat([PNG, Buffer.alloc(LIMIT - PNG.byteLength)]);
    const overLimit = Buffer.concat([PNG, Buffer.alloc(LIMIT + 1 - PNG.byteLength)]);
    before(async () => {
      t = await startTestApp(dialect, { config: { MAX_ATTACHMENT_BYTES: String(LIMIT) } });
      cdn = await startFileServer({
        "/big.png": { body: overLimit, type: "image/png" },
        // No Content-Length up front: the cap must hold while streaming too.
        "/chunked.png": { body: overLimit, type: "image/png", chunked: true },
        "/fits.png": { body: atLimit, type: "image/png" },
      });
    });
    after(async () => {
      await cdn.close();
      await t.close();
    });

    it("accepts a file of exactly OPENLINQ_MAX_ATTACHMENT_BYTES", async () => {
      const chat = await createChat(t, ["+15554450001"]);
      const upload = await t.multipart("POST", `${V2}/chats/${chat.id}/chat_messages`, [
        ["message[attachments][]", { filename: "fits.png", data: atLimit }],
      ]);
      assert.equal(upload.status, 201, upload.raw);
      assert.equal(upload.body.data.attachments[0].file_size, LIMIT);
      const byUrl = await sendMessage(t, chat.id, { text: "x", attachment_urls: [cdn.url("/fits.png")] });
      assert.equal(byUrl.status, 201, byUrl.raw);
    });

    it("answers 413 for a larger upload or download and stores nothing", async () => {
      const chat = await createChat(t, ["+15554450002"]);
      const files = storedFiles(t).length;
      const upload = await t.multipart("POST", `${V2}/chats/${chat.id}/chat_messages`, [
        ["message[text]", "too big"],
        ["message[attachments][]", { filename: "big.png", data: overLimit }],
      ]);
      assertRenderError(upload, 413, /1024 bytes/);
      for (const path of ["/big.png", "/chunked.png"]) {
        const res = await sendMessage(t, chat.id, { text: "x", attachment_urls: [cdn.url(path)] });
        const detail = assertRenderError(res, 413, /1024 bytes/);
        assert.ok(detail.includes(cdn.url(path)), detail);
      }
      const create = await t.multipart("POST", `${V2}/chats`, [
        ["send_from", OUR_NUMBER],
        ["chat[phone_numbers][]", "+15554450003"],
        ["message[text]", "too big"],
        ["message[attachments][]", { filename: "big.png", data: overLimit }],
      ]);
      assertRenderError(create, 413);
      assert.equal((await listMessages(t, chat.id)).length, 1);
      assert.equal(storedFiles(t).length, files);
      const found = await t.request("GET", `${V2}/chats/find?phone_number=${encodeURIComponent(OUR_NUMBER)}&phone_numbers[]=%2B15554450003`);
      assert.equal(found.body.data.chat, null);
    });
  });
}
