import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, type TestApp } from "./helpers/app.ts";
import { SANDBOX, advance, getChat, getMessage, listen, simulate, startSandbox, type Listener, envelopeReader } from "./helpers/sandbox.ts";
import { V2, assertRenderError, createChat, listMessages, sendMessage } from "./helpers/v2.ts";
import { startFileServer, type FileServer } from "./helpers/file-server.ts";
import { PNG } from "./fixtures/media.ts";

/** `2025-05-21 15:30:00 -0600` (the webhook time format) as epoch milliseconds. */
const rubyTimeMs = (text: string) => Date.parse(text.replace(" ", "T").replace(/ ([+-]\d\d)(\d\d)$/, "$1:$2"));

/** Driving the other side by hand (POST /openlinq/v1/simulate/*), as a partner's test suite would. */
for (const dialect of DIALECTS) {
  describe(`simulator: the other side writes, reacts, types, reads, joins and calls (${dialect})`, () => {
    let t: TestApp;
    let hooks: Listener;
    let cdn: FileServer;
    before(async () => {
      t = await startSandbox(dialect);
      hooks = await listen(t);
      cdn = await startFileServer({ "/photo.png": { body: PNG, type: "image/png" } });
    });
    after(async () => {
      await cdn.close();
      await hooks.close();
      await t.close();
    });

    const received = envelopeReader(() => t, () => hooks);

    it("reply: the recipient answers in the chat and the receiver gets message.received", async () => {
      const chat = await createChat(t, ["+15551234567"], "Hello! This is my first message via the Linq API.");
      await received();
      const data = await simulate(t, "inbound_message", { from: "+15551234567", to: OUR_NUMBER, text: "Thanks! This is my reply." });
      assert.equal(data.created_chat, false);
      assert.equal(data.chat.id, chat.id);
      assert.equal(data.chat.message_count, 2);
      assert.equal(data.message.text, "Thanks! This is my reply.");
      assert.equal(data.message.sent_from, "+15551234567");
      assert.equal(data.message.delivery_status, "delivered");
      assert.equal(data.message.is_read, false);
      assert.deepEqual(data.events.map((e: { event_type: string }) => e.event_type), ["message.received"]);

      const [event] = await received();
      assert.equal(event!.event_type, "message.received");
      assert.equal(event!.event_id, data.events[0].event_id);
      assert.equal(event!.data.id, String(data.message.id));
      assert.equal(event!.data.chat_id, String(chat.id));
      assert.equal(event!.data.text, "Thanks! This is my reply.");
      assert.equal(event!.data.from_phone, "+15551234567");
      assert.equal(event!.data.service, "iMessage");
      assert.equal(event!.data.is_read, false);
      assert.deepEqual(
        event!.data.chat_handles.map((h: { identifier: string; is_me: boolean }) => [h.identifier, h.is_me]),
        [[OUR_NUMBER, true], ["+15551234567", false]],
      );
      assert.equal(event!.data.message.sent_from, "+15551234567", "the quickstart's nested shape too");
      const messages = await listMessages(t, chat.id);
      assert.deepEqual(messages.map((m) => m.sent_from), [OUR_NUMBER, "+15551234567"]);
    });

    it("a stranger's first message starts a 1:1 chat (no chat.created: that is for chats created through the API)", async () => {
      const data = await simulate(t, "inbound_message", { from: "stranger@example.com", to: OUR_NUMBER, text: "Who is this?" });
      assert.equal(data.created_chat, true);
      assert.equal(data.chat.group, false);
      assert.equal(data.chat.message_count, 1);
      assert.deepEqual(data.chat.chat_handles.map((h: { phone_number: string }) => h.phone_number), ["stranger@example.com"]);
      assert.deepEqual((await received()).map((e) => e.event_type), ["message.received"]);
      const again = await simulate(t, "inbound_message", { from: "Stranger@Example.com", to: OUR_NUMBER, text: "Hello?" });
      assert.equal(again.created_chat, false);
      assert.equal(again.chat.id, data.chat.id);
      await received();
    });

    it("their message can carry pictures, fetched from attachment_urls like ours", async () => {
      const data = await simulate(t, "inbound_message", {
        from: "+15551230213",
        to: OUR_NUMBER,
        text: "Here is the photo",
        attachment_urls: [cdn.url("/photo.png")],
      });
      assert.equal(data.message.attachments.length, 1);
      const [attachment] = data.message.attachments;
      assert.equal(attachment.mime_type, "image/png");
      assert.equal(attachment.file_size, PNG.length);
      const download = await t.request("GET", new URL(attachment.url).pathname, { token: null });
      assert.equal(download.status, 200);
      assert.equal(download.headers["content-type"], "image/png");
      const [event] = await received();
      assert.equal(event!.event_type, "message.received");
      assert.deepEqual(event!.data.attachments, [
        { id: attachment.id, url: attachment.url, filename: attachment.filename, mime_type: "image/png" },
      ]);

      const missing = await t.request("POST", `${SANDBOX}/simulate/inbound_message`, {
        body: { from: "+15551230213", to: OUR_NUMBER, attachment_urls: [cdn.url("/gone.png")] },
      });
      assertRenderError(missing, 422, /Could not download attachment/);
    });

    it("tapback: reaction.received on add, replace and remove, and the message shows it", async () => {
      const chat = await createChat(t, ["+15551230201"], "Lunch at noon?");
      await received();
      const messageId = chat.chat_messages.id;
      const love = await simulate(t, "reaction", { from: "+15551230201", chat_message_id: messageId, type: "love", operation: "add" });
      assert.equal(love.reaction.reaction, "love");
      assert.equal(love.reaction.is_from_me, false);
      assert.equal(love.reaction.from_phone, "+15551230201");
      assert.equal(love.chat_id, chat.id);
      const like = await simulate(t, "reaction", { from: "+15551230201", chat_message_id: messageId, type: "like", operation: "add" });
      let message = await getMessage(t, chat.id, messageId);
      assert.deepEqual(message.reactions.map((r: { reaction: string }) => r.reaction), ["like"], "one tapback per person");
      await simulate(t, "reaction", { from: "+15551230201", chat_message_id: messageId, type: "like", operation: "remove" });
      message = await getMessage(t, chat.id, messageId);
      assert.deepEqual(message.reactions, []);

      const events = await received();
      assert.deepEqual(events.map((e) => [e.event_type, e.data.reaction, e.data.operation]), [
        ["reaction.received", "love", "add"],
        ["reaction.received", "love", "remove"],
        ["reaction.received", "like", "add"],
        ["reaction.received", "like", "remove"],
      ]);
      assert.equal(events[1]!.data.id, String(love.reaction.id), "the removal names the replaced tapback");
      assert.deepEqual(like.events.map((e: { event_type: string }) => e.event_type), ["reaction.received", "reaction.received"]);
      const [first] = events;
      assert.equal(first!.data.id, String(love.reaction.id));
      assert.equal(first!.data.chat_message_id, String(messageId));
      assert.equal(first!.data.chat_id, String(chat.id));
      assert.equal(first!.data.is_from_me, false);
      assert.equal(first!.data.chat_handle.identifier, "+15551230201");
      assert.deepEqual(first!.data.associated_message, {
        id: String(messageId),
        text: "Lunch at noon?",
        sent_at: first!.data.associated_message.sent_at,
      });
      assert.equal(events[2]!.data.id, String(like.reaction.id));

      const again = await t.request("POST", `${SANDBOX}/simulate/reaction`, {
        body: { from: "+15551230201", chat_message_id: messageId, type: "like", operation: "remove" },
      });
      assertRenderError(again, 404, /No like reaction/);
    });

    it("typing: received and removed on each change only, and removed before their message lands", async () => {
      const chat = await createChat(t, ["+15551230202"], "Tell me more");
      await received();
      const start = { from: "+15551230202", chat_id: chat.id, state: "started" };
      const started = await simulate(t, "typing", start);
      assert.deepEqual(started.events.map((e: { event_type: string }) => e.event_type), ["typing_indicator.received"]);
      assert.deepEqual((await simulate(t, "typing", start)).events, [], "already typing: nothing new to tell");
      const stopped = await simulate(t, "typing", { ...start, state: "stopped" });
      assert.deepEqual(stopped.events.map((e: { event_type: string }) => e.event_type), ["typing_indicator.removed"]);
      await simulate(t, "typing", start);
      await simulate(t, "inbound_message", { from: "+15551230202", chat_id: chat.id, text: "So…" });

      const events = await received();
      assert.deepEqual(events.map((e) => e.event_type), [
        "typing_indicator.received",
        "typing_indicator.removed",
        "typing_indicator.received",
        "typing_indicator.removed",
        "message.received",
      ]);
      assert.deepEqual(events.slice(0, 4).map((e) => e.data.display), [true, false, true, false]);
      for (const event of events.slice(0, 4)) {
        assert.equal(event.data.chat_id, String(chat.id));
        assert.equal(event.data.chat_handle.identifier, "+15551230202");
        assert.match(event.data.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/);
      }

      const sms = await createChat(t, ["+15550100002"], "Plain text");
      const refused = await t.request("POST", `${SANDBOX}/simulate/typing`, {
        body: { from: "+15550100002", chat_id: sms.id, state: "started" },
      });
      assertRenderError(refused, 422, /SMS, which carries no typing indicators/);
      await received();
    });

    it("read receipt: message.read for each delivered message of ours not yet read", async () => {
      const chat = await createChat(t, ["+15551230203"], "One");
      const second = await sendMessage(t, chat.id, { text: "Two" });
      await received();
      const read = await simulate(t, "read", { from: "+15551230203", chat_id: chat.id });
      assert.deepEqual(read.messages.map((m: { id: number }) => m.id), [chat.chat_messages.id, second.body.data.id]);
      assert.ok(read.messages.every((m: { is_read: boolean }) => m.is_read));
      const events = await received();
      assert.deepEqual(events.map((e) => [e.event_type, e.data.id]), [
        ["message.read", String(chat.chat_messages.id)],
        ["message.read", String(second.body.data.id)],
      ]);
      assert.equal((await getMessage(t, chat.id, chat.chat_messages.id)).is_read, true);
      assert.deepEqual((await simulate(t, "read", { from: "+15551230203", chat_id: chat.id })).events, []);
    });

    it("group join and leave: participant.added then participant.removed, and the chat lists who is in", async () => {
      const group = await createChat(t, ["+15551230204", "+15551230205"], "Team!");
      await received();
      const change = await simulate(t, "participants", { chat_id: group.id, add: ["+15551230206"], remove: ["+15551230204"] });
      assert.deepEqual(change.added.map((h: { phone_number: string }) => h.phone_number), ["+15551230206"]);
      assert.deepEqual(change.removed.map((h: { phone_number: string }) => h.phone_number), ["+15551230204"]);
      const members = (await getChat(t, group.id)).chat_handles.map((h: { phone_number: string }) => h.phone_number);
      assert.deepEqual(members, ["+15551230205", "+15551230206"]);

      const events = await received();
      assert.deepEqual(events.map((e) => [e.event_type, e.data.chat_handle.identifier]), [
        ["participant.added", "+15551230206"],
        ["participant.removed", "+15551230204"],
      ]);
      assert.equal(events[0]!.data.chat_id, String(group.id));
      assert.equal(events[0]!.data.chat_handle.id, String(change.added[0].id));
      const idents = (e: (typeof events)[number]) => e.data.chat_handles.map((h: { identifier: string }) => h.identifier);
      assert.deepEqual(idents(events[0]!), [OUR_NUMBER, "+15551230204", "+15551230205", "+15551230206"]);
      assert.deepEqual(idents(events[1]!), [OUR_NUMBER, "+15551230205", "+15551230206"]);

      // The one who left no longer writes there; the one who joined does.
      const gone = await t.request("POST", `${SANDBOX}/simulate/inbound_message`, {
        body: { from: "+15551230204", chat_id: group.id, text: "still here?" },
      });
      assertRenderError(gone, 422, /not a participant/);
      await simulate(t, "inbound_message", { from: "+15551230206", chat_id: group.id, text: "Hi all" });
      assert.deepEqual((await received()).map((e) => e.event_type), ["message.received"]);

      const oneToOne = await createChat(t, ["+15551230207"], "Just us");
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/participants`, { body: { chat_id: oneToOne.id, add: ["+15551230208"] } }),
        422,
        /only in group chats/,
      );
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/participants`, {
          body: { chat_id: group.id, remove: ["+15551230205", "+15551230206"] },
        }),
        422,
        /at least one participant/,
      );
      await received();
    });

    it("calls: call.completed for inbound and outbound calls on our number", async () => {
      const inbound = await simulate(t, "call", {
        from: "+15551230209",
        to: OUR_NUMBER,
        duration_seconds: 330,
        recording: { transcription: "Hi, calling about the order.", summary: "Order question" },
      });
      assert.equal(inbound.call.direction, "inbound");
      assert.equal(inbound.call.answered_by, OUR_NUMBER);
      const outbound = await simulate(t, "call", { from: OUR_NUMBER, to: "+15551230209", duration_seconds: 0, status: "missed" });
      assert.equal(outbound.call.direction, "outbound");
      assert.ok(!("answered_by" in outbound.call), "the simulate answer is the webhook data: no one answered");

      const events = await received();
      assert.deepEqual(events.map((e) => e.event_type), ["call.completed", "call.completed"]);
      const data = events[0]!.data;
      assert.equal(data.id, inbound.call.id);
      assert.equal(data.from, "+15551230209");
      assert.equal(data.to, OUR_NUMBER);
      assert.equal(data.status, "completed");
      assert.equal(data.duration, 330);
      assert.equal(data.call_type, "normal");
      assert.equal(data.voicemail, false);
      assert.equal(data.has_recording, true);
      assert.equal(data.recording_data.transcription, "Hi, calling about the order.");
      assert.equal(data.recording_data.duration, 330);
      assert.equal((rubyTimeMs(data.end_time) - rubyTimeMs(data.start_time)) / 1000, 330);
      assert.equal(events[1]!.data.has_recording, false);
      assert.equal(events[1]!.data.recording_data, null);

      // Fields typed as strings are never null: unknown ones are left out.
      const STRING_OR_NULL = ["forwarded_from", "recording_data"];
      for (const event of events) {
        const nulls = Object.entries(event.data).filter(([key, value]) => value === null && !STRING_OR_NULL.includes(key));
        assert.deepEqual(nulls, [], `call ${event.data.id}`);
      }
      assert.equal(data.answered_by, OUR_NUMBER);
      assert.ok(!("answered_by" in events[1]!.data), "a missed call was answered by no one");
      assert.equal(data.recording_data.summary, "Order question");
      assert.ok(!("url" in data.recording_data), "no recording URL was given");
      assert.ok(Object.values(data.recording_data).every((value) => value !== null), JSON.stringify(data.recording_data));

      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/call`, { body: { from: "+15551230209", to: "+15551230210", duration_seconds: 5 } }),
        422,
        /one of from and to must be a phone number of your organization/,
      );
    });

    it("refuses bad input in the render_error shape, checks the token and keeps organizations apart", async () => {
      assertRenderError(await t.request("POST", `${SANDBOX}/simulate/inbound_message`, { body: { to: OUR_NUMBER, text: "x" } }), 400, /from/);
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/inbound_message`, { body: { from: "+15551230211", text: "x" } }),
        400,
        /to is required/,
      );
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/inbound_message`, { body: { from: "555-123", to: OUR_NUMBER, text: "x" } }),
        422,
        /from/,
      );
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/inbound_message`, { body: { from: OUR_NUMBER, to: OUR_NUMBER, text: "x" } }),
        422,
        /one of your own numbers/,
      );
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/inbound_message`, { body: { from: "+15551230211", to: OUR_NUMBER } }),
        422,
        /text is required/,
      );
      assertRenderError(await t.request("POST", `${SANDBOX}/simulate/read`, { body: { from: "+15551230211", chat_id: 999999 } }), 404);
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/typing`, { body: { from: "+15551230211", chat_id: 1, state: "dancing" } }),
        400,
      );
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/inbound_message`, { token: null, body: { from: "+15551230211", to: OUR_NUMBER, text: "x" } }),
        401,
      );

      const other = await t.secondOrg();
      const ours = await createChat(t, ["+15551230212"], "Private");
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/read`, { token: other.token, body: { from: "+15551230212", chat_id: ours.id } }),
        404,
      );
      assertRenderError(
        await t.request("POST", `${SANDBOX}/simulate/inbound_message`, {
          token: other.token,
          body: { from: "+15551230212", to: OUR_NUMBER, text: "x" },
        }),
        422,
        /not a phone number of your organization/,
      );
      const theirs = await t.request("POST", `${SANDBOX}/simulate/inbound_message`, {
        token: other.token,
        body: { from: "+15551230212", to: other.number, text: "to the other org" },
      });
      assert.equal(theirs.status, 201, theirs.raw);
      assert.notEqual(theirs.body.data.chat.id, ours.id);
      await received();
      assert.ok(hooks.envelopes().every((e) => e.data.text !== "to the other org"), "our receiver never sees the other org");
    });
  });
}
