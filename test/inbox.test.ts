import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { DIALECTS, OUR_NUMBER, encodeMultipart, startTestApp, type TestApp } from "./helpers/app.ts";
import { createManualClock, type ManualClock } from "./helpers/manual-clock.ts";
import { V2, assertRenderError, createChat, sendMessage } from "./helpers/v2.ts";
import { readFrames } from "./helpers/event-stream.ts";

/** The inbox's own endpoints (/openlinq/v1/inbox/*, the stream) and the UI it serves. */

const INBOX = "/openlinq/v1/inbox";
const SECOND_NUMBER = "+19998886666";

async function inbound(t: TestApp, body: Record<string, unknown>) {
  const res = await t.request("POST", "/openlinq/v1/simulate/inbound_message", { body });
  assert.equal(res.status, 201, res.raw);
  return res.body.data;
}

for (const dialect of DIALECTS) {
  describe(`inbox reads (${dialect})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    before(async () => {
      clock = createManualClock();
      t = await startTestApp(dialect, {
        config: { PHONE_NUMBERS: `${OUR_NUMBER},${SECOND_NUMBER}` },
        overrides: { clock },
      });
    });
    after(async () => {
      await t.close();
    });

    it("session: the token's organization and its numbers; refused without a valid token", async () => {
      const res = await t.request("GET", `${INBOX}/session`);
      assert.equal(res.status, 200, res.raw);
      assert.equal(typeof res.body.organization.name, "string");
      assert.deepEqual(
        res.body.phone_numbers.map((n: { phone_number: string; display: string }) => [n.phone_number, n.display]),
        [
          [OUR_NUMBER, "+1 (999) 888-7777"],
          [SECOND_NUMBER, "+1 (999) 888-6666"],
        ],
      );
      assertRenderError(await t.request("GET", `${INBOX}/session`, { token: null }), 401);
      assertRenderError(await t.request("GET", `${INBOX}/session`, { token: "wrong-token-value" }), 401);
      const viaQuery = await t.request("GET", `${INBOX}/session?token=${t.token}`, { token: null });
      assert.equal(viaQuery.status, 200, "EventSource-style ?token= is accepted");
      const viaBearer = await t.request("GET", `${INBOX}/session`, { token: null, headers: { authorization: `Bearer ${t.token}` } });
      assert.equal(viaBearer.status, 200);
    });

    it("chats: across all our numbers, newest first, with unread counts and the last message", async () => {
      const first = await createChat(t, ["+15550000001"], "Hello one");
      clock.advance(1000);
      const second = await createChat(t, ["+15550000002", "+15550000003"], "Hello group", { displayName: "Group chat" });
      clock.advance(1000);
      const third = await createChat(t, ["+15550000004"], "From the second number", { sendFrom: SECOND_NUMBER });
      clock.advance(1000);
      await inbound(t, { from: "+15550000001", to: OUR_NUMBER, text: "Reply one" });
      clock.advance(1000);
      await inbound(t, { from: "+15550000001", to: OUR_NUMBER, text: "Reply two" });

      const res = await t.request("GET", `${INBOX}/chats`);
      assert.equal(res.status, 200, res.raw);
      assert.deepEqual(
        res.body.data.map((c: { id: number }) => c.id),
        [first.chat.id, third.chat.id, second.chat.id],
      );
      const [one, fromSecond, group] = res.body.data;
      assert.equal(one.unread_count, 2);
      assert.equal(one.last_message.text, "Reply two");
      assert.equal(one.last_message.is_from_me, false);
      assert.equal(one.last_message.sender, "+15550000001");
      assert.equal(one.display_name, "+1 (555) 000-0001");
      assert.equal(fromSecond.phone_number, SECOND_NUMBER);
      assert.equal(fromSecond.unread_count, 0);
      assert.equal(group.group, true);
      assert.equal(group.display_name, "Group chat");
      assert.deepEqual(
        group.participants.map((p: { handle: string; is_me: boolean }) => [p.handle, p.is_me]),
        [
          [OUR_NUMBER, true],
          ["+15550000002", false],
          ["+15550000003", false],
        ],
      );
      assert.equal(res.body.meta.total_count, 3);

      // Reading through the API clears the count; looking at the inbox never does.
      assert.equal((await t.request("PUT", `${V2}/chats/${first.chat.id}/mark_as_read`)).status, 204);
      const after = await t.request("GET", `${INBOX}/chats`);
      assert.equal(after.body.data[0].unread_count, 0);

      const onlySecond = await t.request("GET", `${INBOX}/chats?phone_number=${encodeURIComponent(SECOND_NUMBER)}`);
      assert.deepEqual(
        onlySecond.body.data.map((c: { id: number }) => c.id),
        [third.chat.id],
      );
      assertRenderError(await t.request("GET", `${INBOX}/chats?phone_number=%2B15557770000`), 422);
    });

    it("chats: search matches the name, the number typed any way, and message text", async () => {
      await createChat(t, ["+15550000010"], "Your invoice #8812 is ready", { displayName: "Billing_desk 100%" });
      const names = async (q: string) => {
        const res = await t.request("GET", `${INBOX}/chats?q=${encodeURIComponent(q)}`);
        assert.equal(res.status, 200, res.raw);
        return res.body.data.map((c: { display_name: string }) => c.display_name);
      };
      assert.deepEqual(await names("billing"), ["Billing_desk 100%"]);
      assert.deepEqual(await names("(555) 000-0010"), ["Billing_desk 100%"]);
      assert.deepEqual(await names("INVOICE #8812"), ["Billing_desk 100%"]);
      assert.deepEqual(await names("100%"), ["Billing_desk 100%"], "% is matched literally");
      assert.deepEqual(await names("_desk"), ["Billing_desk 100%"], "_ is matched literally");
      assert.deepEqual(await names("nothing like this"), []);
      assertRenderError(await t.request("GET", `${INBOX}/chats?q=${"x".repeat(201)}`), 400);
    });

    it("thread: oldest first, who wrote each message, reactions, attachments and paging back", async () => {
      const chat = await createChat(t, ["+15550000020"], "Message 0");
      // Same instant on purpose: paging must neither skip nor repeat messages with equal times.
      for (let i = 1; i < 5; i++) assert.equal((await sendMessage(t, chat.chat.id, { text: `Message ${i}` })).status, 201);
      const reply = await inbound(t, { from: "+15550000020", chat_id: chat.chat.id, text: "Their reply" });
      const reacted = await t.request("POST", "/openlinq/v1/simulate/reaction", {
        body: { from: "+15550000020", chat_message_id: chat.message.id, type: "love", operation: "add" },
      });
      assert.equal(reacted.status, 201, reacted.raw);

      const full = await t.request("GET", `${INBOX}/chats/${chat.chat.id}/thread`);
      assert.equal(full.status, 200, full.raw);
      assert.deepEqual(
        full.body.messages.map((m: { text: string }) => m.text),
        ["Message 0", "Message 1", "Message 2", "Message 3", "Message 4", "Their reply"],
      );
      assert.equal(full.body.has_older, false);
      assert.deepEqual(full.body.typing, []);
      const [firstMessage] = full.body.messages;
      assert.equal(firstMessage.is_from_me, true);
      assert.equal(firstMessage.sender, OUR_NUMBER);
      assert.deepEqual(
        firstMessage.reactions.map((r: { reaction: string; from_phone: string; is_from_me: boolean }) => [r.reaction, r.from_phone, r.is_from_me]),
        [["love", "+15550000020", false]],
      );
      const theirs = full.body.messages.at(-1);
      assert.equal(theirs.id, reply.message.id);
      assert.equal(theirs.is_from_me, false);

      const newest = await t.request("GET", `${INBOX}/chats/${chat.chat.id}/thread?limit=2`);
      assert.deepEqual(
        newest.body.messages.map((m: { text: string }) => m.text),
        ["Message 4", "Their reply"],
      );
      assert.equal(newest.body.has_older, true);
      const older = await t.request("GET", `${INBOX}/chats/${chat.chat.id}/thread?limit=3&before_id=${newest.body.messages[0].id}`);
      assert.deepEqual(
        older.body.messages.map((m: { text: string }) => m.text),
        ["Message 1", "Message 2", "Message 3"],
      );
      assert.equal(older.body.has_older, true);
      const oldest = await t.request("GET", `${INBOX}/chats/${chat.chat.id}/thread?limit=3&before_id=${older.body.messages[0].id}`);
      assert.deepEqual(
        oldest.body.messages.map((m: { text: string }) => m.text),
        ["Message 0"],
      );
      assert.equal(oldest.body.has_older, false);

      const one = await t.request("GET", `${INBOX}/chats/${chat.chat.id}/messages/${reply.message.id}`);
      assert.equal(one.status, 200, one.raw);
      assert.equal(one.body.text, "Their reply");
      assertRenderError(await t.request("GET", `${INBOX}/chats/${chat.chat.id}/thread?before_id=999999`), 404);
      assertRenderError(await t.request("GET", `${INBOX}/chats/999999/thread`), 404);
      assertRenderError(await t.request("GET", `${INBOX}/chats/${chat.chat.id}/thread?limit=1001`), 400);
    });

    it("thread: shows who is typing right now, for a page opened mid-typing", async () => {
      const chat = await createChat(t, ["+15550000030"], "Typing check");
      const typing = await t.request("POST", "/openlinq/v1/simulate/typing", {
        body: { from: "+15550000030", chat_id: chat.chat.id, state: "started" },
      });
      assert.equal(typing.status, 200, typing.raw);
      assert.equal((await t.request("POST", `${V2}/chats/${chat.chat.id}/start_typing`)).status, 201);
      const res = await t.request("GET", `${INBOX}/chats/${chat.chat.id}/thread`);
      assert.deepEqual(res.body.typing, [
        { handle: "+15550000030", is_me: false },
        { handle: OUR_NUMBER, is_me: true },
      ]);
    });

    it("keeps organizations apart", async () => {
      const other = await t.secondOrg();
      const theirs = await createChat(t, ["+15550000040"], "Other org", { token: other.token, sendFrom: other.number });
      const mine = await t.request("GET", `${INBOX}/chats`);
      assert.ok(!mine.body.data.some((c: { id: number }) => c.id === theirs.chat.id));
      assertRenderError(await t.request("GET", `${INBOX}/chats/${theirs.chat.id}/thread`), 404);
      assertRenderError(await t.request("GET", `${INBOX}/chats/${theirs.chat.id}/messages/${theirs.message.id}`), 404);
      const session = await t.request("GET", `${INBOX}/session`, { token: other.token });
      assert.deepEqual(
        session.body.phone_numbers.map((n: { phone_number: string }) => n.phone_number),
        [other.number],
      );
    });
  });
}

describe("inbox stream, uploads and UI (sqlite)", () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await startTestApp("sqlite");
    await t.openlinq.listen();
    base = t.openlinq.baseUrl();
  });
  after(async () => {
    await t.close();
  });

  it("stream: hello, then the organization's activity as it happens, and nothing of other organizations", async () => {
    const other = await t.secondOrg();
    const controller = new AbortController();
    const response = await fetch(`${base}/openlinq/v1/stream?token=${t.token}`, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const nextFrame = readFrames(response);
    const hello = await nextFrame();
    assert.match(hello, /^retry: \d+\nevent: hello\ndata: \{"server_id":"[0-9a-f-]{36}"\}$/);

    await createChat(t, ["+15550000050"], "Not for this stream", { token: other.token, sendFrom: other.number });
    const chat = await createChat(t, ["+15550000051"], "For this stream");
    const frame = await nextFrame();
    const activity = JSON.parse(frame.replace(/^data: /, ""));
    assert.equal(activity.chat_id, chat.chat.id, "the other organization's chat never shows up");
    assert.ok(["chat", "message"].includes(activity.kind));
    controller.abort();

    const refused = await fetch(`${base}/openlinq/v1/stream?token=nope-not-valid`);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
  });

  it("uploads: a staged file is served at the URL handed back, for a recipient's message", async () => {
    const { payload, contentType } = await encodeMultipart([
      ["file", { filename: "notes.txt", data: Buffer.from("staged text"), type: "text/plain" }],
    ]);
    const res = await t.request("POST", `${INBOX}/uploads`, { payload, headers: { "content-type": contentType } });
    assert.equal(res.status, 201, res.raw);
    assert.match(res.body.url, new RegExp(`^${base}/openlinq/v1/inbox/uploads/[0-9a-f-]{36}/notes\\.txt$`));
    const download = await fetch(res.body.url);
    assert.equal(download.status, 200);
    assert.equal(await download.text(), "staged text");

    const chat = await createChat(t, ["+15550000060"], "Send me the notes");
    const message = await inbound(t, { from: "+15550000060", chat_id: chat.chat.id, attachment_urls: [res.body.url] });
    assert.equal(message.message.attachments[0].filename, "notes.txt");

    const anonymous = await t.request("POST", `${INBOX}/uploads`, { payload, token: null, headers: { "content-type": contentType } });
    assertRenderError(anonymous, 401);
    assertRenderError(await t.request("POST", `${INBOX}/uploads`, { body: {} }), 400);
    const unknown = await fetch(`${base}/openlinq/v1/inbox/uploads/00000000-0000-4000-8000-000000000000/x.txt`);
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  });

  it("uploads: a staged file named in any script downloads under its name, for a recipient's message", async () => {
    const names = ["résumé d'été.pdf", "報告書 2026.txt", "100% (final) it's.txt", "emoji 😀.txt"];
    for (const filename of names) {
      const { payload, contentType } = await encodeMultipart([["file", { filename, data: Buffer.from(filename), type: "text/plain" }]]);
      const res = await t.request("POST", `${INBOX}/uploads`, { payload, headers: { "content-type": contentType } });
      assert.equal(res.status, 201, res.raw);
      assert.equal(res.body.filename, filename);
      const download = await fetch(res.body.url);
      assert.equal(download.status, 200, `${filename}: ${download.status}`);
      assert.equal(await download.text(), filename);
      // RFC 6266: an ASCII fallback, and the exact name as UTF-8 in filename*.
      const disposition = download.headers.get("content-disposition") ?? "";
      const exact = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1];
      assert.equal(decodeURIComponent(exact ?? ""), filename, disposition);
    }
    const chat = await createChat(t, ["+15550000061"], "Send me the report");
    const { payload, contentType } = await encodeMultipart([["file", { filename: names[1]!, data: Buffer.from("report"), type: "text/plain" }]]);
    const staged = await t.request("POST", `${INBOX}/uploads`, { payload, headers: { "content-type": contentType } });
    const message = await inbound(t, { from: "+15550000061", chat_id: chat.chat.id, attachment_urls: [staged.body.url] });
    // Stored attachments keep a name safe everywhere (letters outside ASCII become "_").
    assert.equal(message.message.attachments.length, 1);
    assert.match(message.message.attachments[0].filename, / 2026\.txt$/);
  });

  it("UI: the page at / with its hashed, gzipped, long-cached assets", async () => {
    const page = await fetch(`${base}/`, { headers: { "accept-encoding": "identity" } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.equal(page.headers.get("cache-control"), "no-cache");
    const html = await page.text();
    const script = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const stylesheet = /href="(\/assets\/app-[A-Z0-9]+\.css)"/.exec(html)?.[1];
    assert.ok(script && stylesheet, "index.html names the hashed bundle and stylesheet");

    const gz = await t.openlinq.http.inject({ url: script, headers: { "accept-encoding": "gzip, br" } });
    assert.equal(gz.statusCode, 200);
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.match(String(gz.headers["cache-control"]), /immutable/);
    assert.match(gunzipSync(gz.rawPayload).toString("utf8"), /EventSource/);
    const revalidated = await t.openlinq.http.inject({ url: script, headers: { "if-none-match": String(gz.headers.etag) } });
    assert.equal(revalidated.statusCode, 304);
    assert.equal((await t.openlinq.http.inject({ url: "/assets/app-NOPE.js" })).statusCode, 404);
    // The API keeps its own answers for unknown paths.
    assertRenderError(await t.request("GET", "/api/partner/v2/nope"), 404);
  });
});
