import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS } from "./helpers/app.ts";
import { expectV3Error, OUR_NUMBER, startV3App, text, type V3TestApp } from "./helpers/v3.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

for (const dialect of DIALECTS) {
  describe(`V3 chats through the official SDK (${dialect})`, () => {
    let app: V3TestApp;
    before(async () => {
      app = await startV3App(dialect);
    });
    after(() => app.close());

    it("creates a chat with its first message (201) and answers it with an X-Trace-ID", async () => {
      const { data, response } = await app.client.chats
        .create({ from: OUR_NUMBER, to: ["+15550001001"], message: text("Hello from V3") })
        .withResponse();
      assert.equal(response.status, 201);
      assert.match(response.headers.get("x-trace-id") ?? "", /^[0-9a-f]{32}$/);
      const { chat } = data;
      assert.match(chat.id, UUID);
      assert.equal(chat.is_group, false);
      assert.equal(chat.display_name, "+15550001001");
      assert.equal(chat.health_status.status, "HEALTHY");
      assert.deepEqual(
        chat.handles.map((h) => [h.handle, h.is_me, h.status]),
        [
          [OUR_NUMBER, true, "active"],
          ["+15550001001", false, "active"],
        ],
      );
      assert.ok(chat.handles.every((h) => UUID.test(h.id)));
      assert.match(chat.message.id, UUID);
      assert.deepEqual(chat.message.parts, [{ type: "text", value: "Hello from V3", text_decorations: null, reactions: [] }]);
      assert.ok(["pending", "queued", "sent", "delivered"].includes(chat.message.delivery_status));
      assert.equal(chat.message.from_handle?.handle, OUR_NUMBER);

      const fetched = await app.client.chats.retrieve(chat.id);
      assert.equal(fetched.id, chat.id);
      assert.equal(fetched.is_archived, false);
      assert.equal(typeof fetched.created_at, "string");
      assert.equal(fetched.group_chat_icon, null);
    });

    it("refuses bad input with the V3 code and writes nothing", async () => {
      const before = await app.client.chats.listChats({ limit: 100 });
      await expectV3Error(app.client.chats.create({ from: "9998887777", to: ["+15550001002"], message: text("x") }), 400, 1002);
      await expectV3Error(app.client.chats.create({ from: OUR_NUMBER, to: ["555-000-1002"], message: text("x") }), 400, 1002);
      await expectV3Error(app.client.chats.create({ from: "+15550009999", to: ["+15550001002"], message: text("x") }), 403, 2006);
      await expectV3Error(app.client.chats.create({ from: OUR_NUMBER, to: ["+15550001002"], message: { parts: [] } }), 400, 1004);
      await expectV3Error(
        app.client.chats.create({
          from: OUR_NUMBER,
          to: ["+15550001002"],
          message: { parts: [{ type: "text", value: "a" }, { type: "text", value: "b" }] },
        }),
        400,
        1004,
      );
      await expectV3Error(
        app.client.chats.create({ from: OUR_NUMBER, to: ["+15550001002"], message: text("see https://example.com") }),
        400,
        1005,
      );
      await expectV3Error(
        app.client.chats.create({ from: OUR_NUMBER, to: ["+15550001002"], message: { parts: [{ type: "link", value: "https://example.com" }] } }),
        400,
        1005,
      );
      // @ts-expect-error: a body without `to`, as a hand-written client might send
      await expectV3Error(app.client.chats.create({ from: OUR_NUMBER, message: text("x") }), 400, 1001);
      const afterwards = await app.client.chats.listChats({ limit: 100 });
      assert.deepEqual(
        afterwards.chats.map((c) => c.id),
        before.chats.map((c) => c.id),
      );
      await expectV3Error(app.client.chats.retrieve("00000000-0000-4000-8000-000000000000"), 404, 2001);
      await expectV3Error(app.client.chats.retrieve("42"), 404, 2001);
      await expectV3Error(app.clientFor("wrong-token").chats.listChats(), 401, 2004);
    });

    it("replays a first message with the same idempotency key: same message, no second one", async () => {
      const body = {
        from: OUR_NUMBER,
        to: ["+15550001003"],
        message: { ...text("Only once"), idempotency_key: "create-once-1" },
      };
      const first = await app.client.chats.create(body);
      const second = await app.client.chats.create(body);
      assert.equal(second.chat.id, first.chat.id);
      assert.equal(second.chat.message.id, first.chat.message.id);
      const messages = await app.client.chats.messages.list(first.chat.id);
      assert.equal(messages.messages.length, 1);
    });

    it("lists chats by cursor, most recent first, filtered by from and to", async () => {
      const ids: string[] = [];
      for (const n of ["+15550002001", "+15550002002", "+15550002003"]) {
        ids.push((await app.client.chats.create({ from: OUR_NUMBER, to: [n], message: text(`Hi ${n}`) })).chat.id);
      }
      const first = await app.client.chats.listChats({ limit: 2 });
      assert.equal(first.chats.length, 2);
      assert.equal(typeof first.next_cursor, "string");
      const all: string[] = [];
      for await (const chat of app.client.chats.listChats({ limit: 2 })) all.push(chat.id);
      assert.deepEqual(all.slice(0, 3), [...ids].reverse(), "newest activity first");
      assert.equal(new Set(all).size, all.length, "no chat twice across pages");
      const byParticipant = await app.client.chats.listChats({ to: "+15550002002" });
      assert.deepEqual(byParticipant.chats.map((c) => c.id), [ids[1]]);
      assert.equal(byParticipant.next_cursor, "", "the client reads a null cursor as the end");
      const raw = await fetch(`${app.t.openlinq.baseUrl()}/api/partner/v3/chats?to=%2B15550002002`, {
        headers: { authorization: `Bearer ${app.t.token}` },
      });
      assert.equal((await raw.json()).next_cursor, null);
      const byLine = await app.client.chats.listChats({ from: OUR_NUMBER, limit: 100 });
      assert.ok(ids.every((id) => byLine.chats.some((c) => c.id === id)));
      await expectV3Error(app.client.chats.listChats({ from: "+1 555 000" }), 400, 1002);
      await expectV3Error(app.client.chats.listChats({ cursor: "not-a-cursor" }), 400, 1005);
    });

    it("sends into a chat (202) and lists its messages newest first by cursor", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550003001"], message: text("one") });
      const { data: sent, response } = await app.client.chats.messages
        .send(chat.id, {
          message: {
            parts: [{ type: "text", value: "two", text_decorations: [{ range: [0, 3], style: "bold" }] }],
            effect: { type: "screen", name: "confetti" },
            preferred_service: "iMessage",
          },
        })
        .withResponse();
      assert.equal(response.status, 202);
      assert.equal(sent.chat_id, chat.id);
      assert.deepEqual(sent.message.effect, { type: "screen", name: "confetti" });
      assert.equal(sent.message.preferred_service, "iMessage");
      assert.deepEqual(sent.message.parts[0], {
        type: "text",
        value: "two",
        text_decorations: [{ range: [0, 3], style: "bold" }],
        reactions: [],
      });
      await app.client.chats.messages.send(chat.id, {
        message: { ...text("three"), reply_to: { message_id: sent.message.id } },
      });
      const page = await app.client.chats.messages.list(chat.id, { limit: 2 });
      assert.deepEqual(page.messages.map((m) => (m.parts?.[0] as { value: string }).value), ["three", "two"]);
      assert.deepEqual(page.messages[0]!.reply_to, { message_id: sent.message.id, part_index: 0 });
      assert.equal(page.messages[0]!.chat_id, chat.id);
      assert.equal(page.messages[0]!.is_from_me, true);
      const texts: string[] = [];
      for await (const m of app.client.chats.messages.list(chat.id, { limit: 2 })) texts.push((m.parts?.[0] as { value: string }).value);
      assert.deepEqual(texts, ["three", "two", "one"]);
      await expectV3Error(
        app.client.chats.messages.send(chat.id, { message: { ...text("x"), reply_to: { message_id: "00000000-0000-4000-8000-000000000000" } } }),
        404,
        2002,
      );
      await expectV3Error(app.client.chats.messages.send(chat.id, { message: { parts: [{ type: "media" }] } }), 400, 1004);
      await expectV3Error(app.client.chats.messages.list("00000000-0000-4000-8000-000000000000"), 404, 2001);
    });

    it("marks read, shares the contact card and shows typing in a direct chat (204 each)", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550004001"], message: text("hey") });
      assert.equal((await app.client.chats.markAsRead(chat.id).withResponse()).response.status, 204);
      await app.client.contactCard.create({ phone_number: OUR_NUMBER, first_name: "Acme" });
      assert.equal((await app.client.chats.shareContactCard(chat.id).withResponse()).response.status, 204);
      const { response } = await app.client.chats.typing.start(chat.id).withResponse();
      assert.equal(response.status, 204);
      assert.equal((await app.client.chats.typing.stop(chat.id).withResponse()).response.status, 204);
      await expectV3Error(app.client.chats.update(chat.id, { display_name: "Nope" }), 409, 1006);
      await expectV3Error(app.client.chats.leaveChat(chat.id), 409, 1006);
    });

    it("renames a group, changes its participants, and after leaving refuses to act in it", async () => {
      const members = ["+15550005001", "+15550005002", "+15550005003"];
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: members, message: text("group hello") });
      assert.equal(chat.is_group, true);
      const { data: updated, response } = await app.client.chats
        .update(chat.id, { display_name: "Team", group_chat_icon: "https://example.com/icon.png" })
        .withResponse();
      assert.equal(response.status, 202);
      assert.deepEqual(updated, { chat_id: chat.id, status: "pending" });
      const renamed = await app.client.chats.retrieve(chat.id);
      assert.equal(renamed.display_name, "Team");
      assert.equal(renamed.group_chat_icon, "https://example.com/icon.png");

      await expectV3Error(app.client.chats.typing.start(chat.id), 403, 2005);
      const added = await app.client.chats.participants.add(chat.id, { handle: "+15550005004" });
      assert.equal(added.status, "accepted");
      assert.equal(added.message, "Participant addition queued");
      assert.match(added.trace_id ?? "", /^[0-9a-f]{32}$/);
      await app.client.chats.participants.remove(chat.id, { handle: "+15550005001" });
      const changed = await app.client.chats.retrieve(chat.id);
      const status = Object.fromEntries(changed.handles.map((h) => [h.handle, h.status]));
      assert.equal(status["+15550005004"], "active");
      assert.equal(status["+15550005001"], "left");
      await expectV3Error(app.client.chats.participants.add(chat.id, { handle: "5550005009" }), 400, 1002);

      const left = await app.client.chats.leaveChat(chat.id);
      assert.equal(left.status, "accepted");
      assert.equal(left.message, "Leave group chat queued");
      await expectV3Error(app.client.chats.messages.send(chat.id, { message: text("still here?") }), 409, 2013);
      await expectV3Error(app.client.chats.markAsRead(chat.id), 409, 2013);
      await expectV3Error(app.client.chats.participants.add(chat.id, { handle: "+15550005006" }), 409, 2013);
      const mine = (await app.client.chats.retrieve(chat.id)).handles.find((h) => h.is_me);
      assert.equal(mine?.status, "left");
    });

    it("keeps organizations apart: another org's chat is not found", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550006001"], message: text("mine") });
      const other = await app.t.secondOrg();
      const stranger = app.clientFor(other.token);
      await expectV3Error(stranger.chats.retrieve(chat.id), 404, 2001);
      await expectV3Error(stranger.chats.messages.send(chat.id, { message: text("x") }), 404, 2001);
      await expectV3Error(stranger.chats.create({ from: OUR_NUMBER, to: ["+15550006001"], message: text("x") }), 403, 2006);
      assert.equal((await stranger.chats.listChats()).chats.length, 0);
    });
  });
}
