import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { MessageContent } from "@linqapp/sdk/resources/chats/chats";
import { DIALECTS, OUR_NUMBER } from "./helpers/app.ts";
import { startFileServer, type FileServer } from "./helpers/file-server.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { advance, listen, SANDBOX, type Listener } from "./helpers/sandbox.ts";
import { V2 } from "./helpers/v2.ts";
import { expectV3Error, startV3App, text, type V3TestApp } from "./helpers/v3.ts";

const APP = { bundle_id: "com.example.tictactoe.messages", name: "Tic Tac Toe", team_id: "ABCDE12345", app_store_id: 1234567 };
const SMS_ONLY = "+15550100002";
const SLOW_NETWORK = "+15550100007";

type CardPart = Extract<MessageContent["parts"][number], { type: "imessage_app" }>;
/** The partner's CDN: the card's preview image, and a file that is not one. */
const images = await startFileServer({
  "/board.jpg": { body: readFileSync("test/fixtures/pixel.jpg"), type: "image/jpeg" },
  "/board.txt": { body: "not a picture", type: "image/png" },
});
after(() => images.close());
const BOARD = images.url("/board.jpg");
const card = (fields: Partial<CardPart> = {}): MessageContent => ({
  parts: [{ type: "imessage_app", app: APP, layout: { caption: "Your move", subcaption: "Game 7", image_url: BOARD }, ...fields }],
});
const EVENTS = ["message.sent", "message.delivered", "message.failed"] as const;

for (const dialect of DIALECTS) {
  describe(`iMessage app cards through the official SDK (${dialect})`, () => {
    let app: V3TestApp;
    let receiver: Receiver;
    let current: string;
    let legacy: string;
    let v2: Listener;
    before(async () => {
      app = await startV3App(dialect, {
        config: { CLOCK: "virtual", RANDOM_SEED: "7", WEBHOOK_CONCURRENCY: "1", WEBHOOK_RETRY_JITTER_PERCENT: "0" },
      });
      receiver = await startReceiver();
      const subscribe = async (path: string) =>
        (await app.client.webhookSubscriptions.create({ target_url: `${receiver.url}${path}`, subscribed_events: [...EVENTS] })).signing_secret;
      current = await subscribe("/current");
      legacy = await subscribe("/legacy?version=2025-01-01");
      v2 = await listen(app.t, ["message.sent"]);
    });
    after(async () => {
      await v2.close();
      await receiver.close();
      await app.close();
    });

    /** Settles the virtual clock; the verified V3 events of one message, per payload version. */
    async function eventsOf(messageId: string) {
      await advance(app.t, 0);
      const verified = (prefix: string, key: string) =>
        receiver.requests
          .filter((r) => r.path.startsWith(prefix))
          .map((r) => {
            const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
            return app.client.webhooks.unwrap(r.body, { headers, key }) as { event_type: string; data: any };
          })
          .filter((e) => (e.data.id ?? e.data.message?.id ?? e.data.message_id) === messageId);
      return { current: verified("/current", current), legacy: verified("/legacy", legacy) };
    }

    it("sends a card: Message objects show it with reactions, webhooks without, V2 as its fallback text", async () => {
      const { chat } = await app.client.chats.create({
        from: OUR_NUMBER,
        to: ["+15550060001"],
        message: card({ fallback_text: "Your move in game 7", url: "https://app.example.com/game/7" }),
      });
      const sent = chat.message;
      const expected = {
        type: "imessage_app",
        app: APP,
        layout: { caption: "Your move", subcaption: "Game 7", image_url: BOARD },
        url: "https://app.example.com/game/7",
        fallback_text: "Your move in game 7",
        reactions: [],
      };
      assert.deepEqual(sent.parts, [expected]);
      assert.equal(chat.service, "iMessage");
      await app.client.messages.addReaction(sent.id, { operation: "add", type: "love" });
      const got = await app.client.messages.retrieve(sent.id);
      assert.equal(got.delivery_status, "delivered");
      const [part] = got.parts as [typeof expected];
      assert.deepEqual({ ...part, reactions: [] }, expected);
      assert.deepEqual(part.reactions.map((r: { type: string; is_me: boolean }) => [r.type, r.is_me]), [["love", true]]);
      assert.deepEqual((await app.client.chats.messages.list(chat.id)).messages.map((m) => m.parts?.[0]?.type), ["imessage_app"]);

      const events = await eventsOf(sent.id);
      assert.deepEqual(events.current.map((e) => e.event_type), ["message.sent", "message.delivered"]);
      const webhookPart = {
        type: "imessage_app",
        app: APP,
        layout: { caption: "Your move", subcaption: "Game 7", trailing_caption: null, trailing_subcaption: null },
        url: "https://app.example.com/game/7",
        fallback_text: "Your move in game 7",
      };
      assert.deepEqual(events.current[0]!.data.parts, [webhookPart]);
      assert.deepEqual(events.legacy.map((e) => e.event_type), ["message.sent", "message.delivered"]);
      assert.deepEqual(events.legacy[0]!.data.message.parts, [webhookPart]);

      // V2 shows what a client without cards can show: the fallback text.
      const v2ChatId = (await app.t.openlinq.deps.store.read.chats.findByUuid(1, chat.id))!.id;
      const v2Messages = await app.t.request("GET", `${V2}/chats/${v2ChatId}/chat_messages`);
      assert.deepEqual(v2Messages.body.data.map((m: { text: string }) => m.text), ["Your move in game 7"]);
      const v2Sent = v2.envelopes().find((e) => e.data.chat_id === v2ChatId || e.data.chat?.id === v2ChatId);
      assert.ok(JSON.stringify(v2Sent?.data).includes("Your move in game 7"), JSON.stringify(v2.envelopes()));
      const edit = await app.t.request("POST", `${V2}/chats/${v2ChatId}/chat_messages/${v2Messages.body.data[0].id}/edit`, {
        body: { text: "no" },
      });
      assert.equal(edit.status, 422, edit.raw);
      await expectV3Error(app.client.messages.update(sent.id, { text: "no" }), 400, 1005);
    });

    it("without fallback text, V2 shows the caption; a card without a URL answers url \"\"", async () => {
      const sent = await app.client.messages.create({ to: ["+15550060002"], message: card() });
      assert.equal((sent.message.parts[0] as { url: string }).url, "");
      assert.equal((sent.message.parts[0] as { fallback_text: string | null }).fallback_text, null);
      const v2ChatId = (await app.t.openlinq.deps.store.read.chats.findByUuid(1, sent.chat_id))!.id;
      const v2Messages = await app.t.request("GET", `${V2}/chats/${v2ChatId}/chat_messages`);
      assert.deepEqual(v2Messages.body.data.map((m: { text: string }) => m.text), ["Your move"]);
    });

    it("refuses bad cards with the V3 codes and writes nothing", async () => {
      const to = ["+15550060003"];
      const send = (message: MessageContent) => app.client.messages.create({ to, message });
      const withApp = (fields: Record<string, unknown>) => card({ app: { ...APP, ...fields } as CardPart["app"] });
      await expectV3Error(send(withApp({ team_id: "abcde12345" })), 400, 1008);
      await expectV3Error(send(withApp({ team_id: "ABCDE1234" })), 400, 1008);
      await expectV3Error(send(withApp({ bundle_id: "com.example:app" })), 400, 1008);
      await expectV3Error(send(withApp({ name: undefined })), 400, 1008);
      await expectV3Error(send(card({ layout: {} })), 400, 1008);
      await expectV3Error(send(card({ layout: { caption: "x", image_title: "Board" } })), 400, 1008);
      // The preview image is fetched: it must be there, and be an image Messages shows.
      await expectV3Error(send(card({ layout: { image_url: images.url("/gone.jpg") } })), 400, 5007);
      await expectV3Error(send(card({ layout: { image_url: images.url("/board.txt") } })), 400, 1008);
      await expectV3Error(send(card({ url: "http://app.example.com/plain" })), 400, 1008);
      await expectV3Error(send(card({ url: `https://app.example.com/${"a".repeat(2048)}` })), 400, 1008);
      await expectV3Error(send(card({ url: `data:application/json,${"a".repeat(16_384)}` })), 400, 1008);
      await expectV3Error(send({ parts: [...card().parts, { type: "text", value: "and text" }] }), 400, 1004);
      await expectV3Error(send({ ...card(), preferred_service: "SMS" }), 409, 2018);
      // A recipient without iMessage: refused at once, not sent as something else.
      const error = await expectV3Error(app.client.messages.create({ to: [SMS_ONLY], message: card() }), 422, 4005);
      assert.match(error.message, /iMessage/);
      await expectV3Error(app.client.chats.create({ from: OUR_NUMBER, to: [SMS_ONLY, "+15550060004"], message: card() }), 422, 4005);
      for (const handle of [...to, SMS_ONLY]) assert.deepEqual((await app.client.chats.listChats({ to: handle })).chats, []);
      // A data: URL carrying the app's state is fine.
      const stateful = await send(card({ url: `data:application/json,${encodeURIComponent('{"board":"x-o"}')}` }));
      assert.match((stateful.message.parts[0] as { url: string }).url, /^data:application\/json,/);
    });

    it("updates a delivered card: a new message with the app inherited and its own lifecycle", async () => {
      const sent = await app.client.messages.create({ to: ["+15550060005"], message: card({ interactive: false, url: "https://app.example.com/g/1" }) });
      await advance(app.t, 0);
      const { data: updated, response } = await app.client.messages
        .updateAppCard(sent.message.id, { layout: { caption: "Score: 2 – 1" }, fallback_text: "Score update" })
        .withResponse();
      assert.equal(response.status, 202);
      assert.equal(updated.chat_id, sent.chat_id);
      assert.notEqual(updated.message.id, sent.message.id);
      assert.deepEqual(updated.message.parts, [
        { type: "imessage_app", app: APP, layout: { caption: "Score: 2 – 1" }, url: "", fallback_text: "Score update", reactions: [] },
      ]);
      // interactive is not inherited: it defaults to true again.
      const stored = await app.t.openlinq.deps.store.read.messages.findByUuid(1, updated.message.id);
      assert.deepEqual(stored?.parts?.map((p) => p.type === "imessage_app" && p.interactive), [true]);
      const events = await eventsOf(updated.message.id);
      assert.deepEqual(events.current.map((e) => e.event_type), ["message.sent", "message.delivered"]);
      const messages = await app.client.chats.messages.list(sent.chat_id);
      assert.deepEqual(messages.messages.map((m) => m.id), [updated.message.id, sent.message.id]);
      // The update can itself be updated; the original card stays as it was.
      const again = await app.client.messages.updateAppCard(updated.message.id, { layout: { caption: "Score: 3 – 1" }, url: "https://app.example.com/g/1?m=3" });
      assert.equal((again.message.parts[0] as { url: string }).url, "https://app.example.com/g/1?m=3");
      assert.deepEqual((await app.client.messages.retrieve(sent.message.id)).parts, sent.message.parts);
    });

    it("refuses updates of what is not our delivered card, and bad layouts, without sending anything", async () => {
      const plain = await app.client.messages.create({ to: ["+15550060006"], message: text("plain") });
      await expectV3Error(app.client.messages.updateAppCard(plain.message.id, { layout: { caption: "x" } }), 400, 1005);
      await expectV3Error(app.client.messages.updateAppCard("00000000-0000-4000-8000-000000000000", { layout: { caption: "x" } }), 404, 2002);
      const slow = await app.client.messages.create({ to: [SLOW_NETWORK], message: card() });
      await expectV3Error(app.client.messages.updateAppCard(slow.message.id, { layout: { caption: "too early" } }), 409, 2015);
      await advance(app.t, 0);
      const delivered = await app.client.messages.create({ to: ["+15550060007"], message: card() });
      await advance(app.t, 0);
      await expectV3Error(app.client.messages.updateAppCard(delivered.message.id, { layout: {} }), 400, 1008);
      await expectV3Error(app.client.messages.updateAppCard(delivered.message.id, { layout: { caption: "x" }, url: "ftp://x" }), 400, 1008);
      await expectV3Error(app.client.messages.updateAppCard(delivered.message.id, {} as never), 400, 1001);
      assert.equal((await app.client.chats.messages.list(delivered.chat_id)).messages.length, 1);
      const other = await app.t.secondOrg();
      await expectV3Error(app.clientFor(other.token).messages.updateAppCard(delivered.message.id, { layout: { caption: "x" } }), 404, 2002);
    });

    it("a chat that falls back to SMS fails the card (4005) instead of delivering it as text", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550060008"], message: text("hi") });
      await advance(app.t, 0);
      const armed = await app.t.request("POST", `${SANDBOX}/scenarios`, { body: { kind: "sms_downgrade", chat_id: chat.id } });
      assert.equal(armed.status, 201, armed.raw);
      const sent = await app.client.chats.messages.send(chat.id, { message: card() });
      const events = await eventsOf(sent.message.id);
      assert.deepEqual(events.current.map((e) => e.event_type), ["message.sent", "message.failed"]);
      assert.equal(events.current[1]!.data.code, 4005);
      assert.equal((await app.client.messages.retrieve(sent.message.id)).delivery_status, "failed");
      assert.equal((await app.client.chats.retrieve(chat.id)).service, "SMS");
    });
  });
}
