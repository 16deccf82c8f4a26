import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { addPhoneNumber } from "../src/core/accounts/accounts.service.ts";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { PNG } from "./fixtures/media.ts";
import { listen } from "./helpers/sandbox.ts";
import { V2, assertRenderError, countChats, createChat, listMessages } from "./helpers/v2.ts";

for (const dialect of DIALECTS) {
  describe(`V2 chats (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(async () => {
      await t.close();
    });

    describe("POST /chats", () => {
      it("accepts the quickstart body unchanged and answers both the seed and the reference shape", async () => {
        const res = await t.request("POST", `${V2}/chats`, {
          body: {
            phone_numbers: ["+15551234567"],
            message: { text: "Hello! This is my first message via the Linq API." },
            phone_number: OUR_NUMBER,
          },
        });
        assert.equal(res.status, 200);
        const data = res.body.data;
        // Seed shape: data.chat + data.message.
        assert.deepEqual(data.chat, {
          id: data.id,
          display_name: "+1 (555) 123-4567",
          service: "iMessage",
          group: false,
          message_count: 1,
        });
        assert.equal(data.message.text, "Hello! This is my first message via the Linq API.");
        assert.equal(data.message.delivery_status, "delivered");
        assert.equal(typeof data.message.id, "number");
        assert.ok(!Number.isNaN(Date.parse(data.message.sent_at)));
        // Reference shape: data is the chat, the message is data.chat_messages (one object).
        assert.equal(data.display_name, "+1 (555) 123-4567");
        assert.equal(data.group, false);
        assert.deepEqual(
          data.chat_handles.map((h: any) => [h.phone_number, h.service, typeof h.id]),
          [["+15551234567", "iMessage", "number"]],
        );
        assert.deepEqual(data.chat_messages, data.message);
        assert.equal(data.chat_messages.is_read, false);
        assert.deepEqual(data.chat_messages.attachments, []);
        assert.equal(data.chat_messages.sent_from, OUR_NUMBER);
      });

      it("creates a named group chat with the reference body", async () => {
        const data = await createChat(t, ["+13343284472", "+13344713465"], "Hello group", {
          displayName: "Sample Chat",
          idempotencyKey: "msg-2024_01-23_abc123",
        });
        assert.equal(data.display_name, "Sample Chat");
        assert.equal(data.group, true);
        assert.equal(data.message_count, 1);
        assert.deepEqual(data.chat_handles.map((h: any) => h.phone_number).sort(), ["+13343284472", "+13344713465"]);
        assert.equal(data.chat_messages.text, "Hello group");
      });

      it("an unnamed group is named after its participants", async () => {
        const data = await createChat(t, ["+13125550101", "+13125550102"]);
        assert.equal(data.display_name, "+1 (312) 555-0101, +1 (312) 555-0102");
      });

      it("finds the existing chat for the same participants (any order) and sends the message into it", async () => {
        const first = await createChat(t, ["+14155550001", "+14155550002"], "one");
        const again = await createChat(t, ["+14155550002", "+14155550001"], "two");
        assert.equal(again.id, first.id);
        assert.equal(again.message_count, 2);
        assert.notEqual(again.chat_messages.id, first.chat_messages.id);
        assert.equal(again.chat_messages.text, "two");
        const messages = await listMessages(t, first.id);
        assert.deepEqual(
          messages.map((m) => m.text),
          ["one", "two"],
        );
      });

      it("accepts multipart/form-data with bracketed keys", async () => {
        const res = await t.multipart("POST", `${V2}/chats`, [
          ["send_from", OUR_NUMBER],
          ["chat[display_name]", "Multipart chat"],
          ["chat[phone_numbers][]", "+16175550001"],
          ["chat[phone_numbers][]", "+16175550002"],
          ["message[text]", "sent as form data"],
          ["message[idempotency_key]", "multipart-chat-1"],
          ["message[attachments][]", { filename: "dot.png", data: PNG, type: "image/png" }],
        ]);
        assert.equal(res.status, 200, res.raw);
        const data = res.body.data;
        assert.equal(data.display_name, "Multipart chat");
        assert.equal(data.group, true);
        assert.equal(data.chat_messages.text, "sent as form data");
        assert.equal(data.chat_messages.attachments.length, 1);
        assert.equal(data.chat_messages.attachments[0].mime_type, "image/png");
        assert.equal(data.chat_messages.attachments[0].file_size, PNG.byteLength);
      });

      it("replays the first message for a repeated idempotency key and does not send again", async () => {
        const first = await createChat(t, ["+16465550001"], "once", { idempotencyKey: "chat-replay-1" });
        const again = await createChat(t, ["+16465550001"], "twice?", { idempotencyKey: "chat-replay-1" });
        assert.equal(again.id, first.id);
        assert.equal(again.chat_messages.id, first.chat_messages.id);
        assert.equal(again.chat_messages.text, "once");
        assert.equal(again.message_count, 1);
        assert.equal((await listMessages(t, first.id)).length, 1);
      });

      it("concurrent identical creates make one chat and one message", async () => {
        const before = await countChats(t);
        const body = {
          send_from: OUR_NUMBER,
          chat: { phone_numbers: ["+16465550077"] },
          message: { text: "race", idempotency_key: "chat-race-1" },
        };
        const responses = await Promise.all(
          Array.from({ length: 5 }, () => t.request("POST", `${V2}/chats`, { body })),
        );
        assert.deepEqual(
          responses.map((r) => r.status),
          [200, 200, 200, 200, 200],
        );
        assert.equal(new Set(responses.map((r) => r.body.data.id)).size, 1);
        assert.equal(new Set(responses.map((r) => r.body.data.chat_messages.id)).size, 1);
        assert.equal(await countChats(t), before + 1);
        assert.equal((await listMessages(t, responses[0]!.body.data.id)).length, 1);
      });

      it("concurrent creates without a key make one chat holding every message", async () => {
        const responses = await Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            t.request("POST", `${V2}/chats`, {
              body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+16465550088"] }, message: { text: `m${i}` } },
            }),
          ),
        );
        assert.ok(responses.every((r) => r.status === 200));
        const ids = new Set(responses.map((r) => r.body.data.id));
        assert.equal(ids.size, 1);
        assert.equal((await listMessages(t, [...ids][0] as number)).length, 4);
      });

      it("accepts +12223334444 and 2223334444 as the same participant", async () => {
        const e164 = await createChat(t, ["+12223334444"]);
        const national = await createChat(t, ["2223334444"]);
        assert.equal(national.id, e164.id);
        assert.equal(national.chat_handles[0].phone_number, "+12223334444");
        const sendFromNational = await createChat(t, ["+12223334444"], "hi", { sendFrom: "9998887777" });
        assert.equal(sendFromNational.id, e164.id);
      });

      it("refuses dashed and parenthesised numbers, naming the field and the accepted formats", async () => {
        const before = await countChats(t);
        for (const bad of ["555-123-4567", "(555) 123-4567", "+1 555 123 4567", "12345", "not a number"]) {
          const reference = await t.request("POST", `${V2}/chats`, {
            body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15551230000", bad] }, message: { text: "x" } },
          });
          const detail = assertRenderError(reference, 422);
          assert.match(detail, /chat\.phone_numbers\[1\]/);
          assert.ok(detail.includes("+12223334444") && detail.includes("2223334444"), detail);

          const seed = await t.request("POST", `${V2}/chats`, {
            body: { phone_number: OUR_NUMBER, phone_numbers: [bad], message: { text: "x" } },
          });
          assert.match(assertRenderError(seed, 422), /^phone_numbers\[0\]/);

          const sender = await t.request("POST", `${V2}/chats`, {
            body: { send_from: bad, chat: { phone_numbers: ["+15551230000"] }, message: { text: "x" } },
          });
          assert.match(assertRenderError(sender, 422), /send_from.*\+12223334444/);
        }
        assert.equal(await countChats(t), before);
      });

      it("reads scalars leniently, as Rails params would: a number as text, one string as a list of one", async () => {
        const res = await t.request("POST", `${V2}/chats`, {
          body: { send_from: 19998887777, chat: { phone_numbers: "+16175550111" }, message: { text: 42 } },
        });
        assert.equal(res.status, 200, res.raw);
        assert.deepEqual(
          res.body.data.chat_handles.map((h: any) => h.phone_number),
          ["+16175550111"],
        );
        assert.equal(res.body.data.chat_messages.text, "42");
      });

      it("refuses bad bodies with render_error and writes nothing", async () => {
        const before = await countChats(t);
        const cases: [unknown, number, RegExp][] = [
          [{ chat: { phone_numbers: ["+15550001111"] }, message: { text: "x" } }, 400, /send_from/],
          [{ send_from: OUR_NUMBER, message: { text: "x" } }, 400, /chat\.phone_numbers/],
          [{ send_from: OUR_NUMBER, chat: { phone_numbers: [] }, message: { text: "x" } }, 422, /at least one/],
          [{ send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550001111"] } }, 400, /message/],
          [{ send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550001111"] }, message: {} }, 400, /message\.text/],
          [{ send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550001111"] }, message: { text: "  " } }, 422, /message\.text/],
          [{ send_from: OUR_NUMBER, chat: "x", message: { text: "x" } }, 400, /chat/],
          [{ send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550001111"] }, message: "hello" }, 400, /message/],
          [{ send_from: OUR_NUMBER, chat: { phone_numbers: { a: 1 } }, message: { text: "x" } }, 400, /phone_numbers/],
          [{ send_from: ["+1", "+2"], chat: { phone_numbers: ["+15550001111"] }, message: { text: "x" } }, 400, /send_from/],
          [
            { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550001111"] }, message: { text: "x", idempotency_key: "has space" } },
            422,
            /idempotency_key/,
          ],
          [{ send_from: "+15550002222", chat: { phone_numbers: ["+15550001111"] }, message: { text: "x" } }, 422, /send_from.*not a phone number of your organization/],
          [{ send_from: OUR_NUMBER, chat: { phone_numbers: [OUR_NUMBER] }, message: { text: "x" } }, 422, /sending number/],
          [
            { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550001111"] }, message: { text: "x", attachments: ["https://cdn.example/a.png"] } },
            400,
            /attachment_urls/,
          ],
        ];
        for (const [body, status, detail] of cases) {
          assertRenderError(await t.request("POST", `${V2}/chats`, { body }), status, detail);
        }
        assertRenderError(
          await t.request("POST", `${V2}/chats`, { payload: '{"send_from": "+1999', headers: { "content-type": "application/json" } }),
          400,
          /Malformed JSON/,
        );
        assert.equal(await countChats(t), before);
      });
    });

    describe("GET /chats/{chat_id}", () => {
      it("returns the chat with its participants", async () => {
        const created = await createChat(t, ["+17185550001"]);
        const res = await t.request("GET", `${V2}/chats/${created.id}`);
        assert.equal(res.status, 200);
        assert.deepEqual(Object.keys(res.body), ["data"]);
        const chat = res.body.data;
        assert.equal(chat.id, created.id);
        assert.equal(chat.display_name, "+1 (718) 555-0001");
        assert.equal(chat.service, "iMessage");
        assert.equal(chat.group, false);
        assert.equal(chat.message_count, 1);
        assert.equal(chat.chat_handles.length, 1);
        assert.match(chat.chat_handles[0].joined_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      });

      it("answers 404 Chat not found for unknown ids, 400 for ids that are not integers", async () => {
        for (const id of ["999999", "2147483648", "99999999999999999999"]) {
          const res = await t.request("GET", `${V2}/chats/${id}`);
          assert.deepEqual(res.body, {
            errors: [{ status: 404, code: "not_found", title: "Not Found", detail: "Chat not found" }],
          });
        }
        assertRenderError(await t.request("GET", `${V2}/chats/abc`), 400, /chat_id/);
        assertRenderError(await t.request("GET", `${V2}/chats/0`), 400, /chat_id/);
      });
    });

    describe("GET /chats", () => {
      let number: string;
      const chatIds: number[] = [];
      before(async () => {
        // A number of our own with nothing else on it, so counts are exact.
        number = "+19998880042";
        await addPhoneNumber(t.openlinq.deps, number, t.openlinq.bootstrap.organization.id);
        for (let i = 0; i < 5; i++) {
          chatIds.push((await createChat(t, [`+1202555010${i}`], `chat ${i}`, { sendFrom: number })).id);
        }
      });

      it("pages with data + meta, most recent activity first", async () => {
        const res = await t.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(number)}&per_page=2`);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.meta, { page: 1, total_pages: 3, total_count: 5, per_page: 2 });
        assert.deepEqual(
          res.body.data.map((c: any) => c.id),
          [chatIds[4], chatIds[3]],
        );
        const last = await t.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(number)}&per_page=2&page=3`);
        assert.deepEqual(
          last.body.data.map((c: any) => c.id),
          [chatIds[0]],
        );
        // A new message moves its chat to the top.
        await createChat(t, ["+12025550100"], "bump", { sendFrom: number });
        const bumped = await t.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(number)}&per_page=1`);
        assert.equal(bumped.body.data[0].id, chatIds[0]);
        assert.equal(bumped.body.data[0].message_count, 2);
      });

      it("clamps per_page to 100 and answers an empty page past the end", async () => {
        const clamped = await t.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(number)}&per_page=500`);
        assert.equal(clamped.status, 200);
        assert.equal(clamped.body.meta.per_page, 100);
        assert.equal(clamped.body.data.length, 5);
        for (const page of ["9", "2147483647", "100000000000000000000"]) {
          const past = await t.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(number)}&page=${page}`);
          assert.equal(past.status, 200, past.raw);
          assert.deepEqual(past.body.data, []);
          assert.equal(past.body.meta.total_count, 5);
          assert.equal(past.body.meta.total_pages, 1);
        }
      });

      it("reads the number in any accepted form", async () => {
        for (const form of ["19998880042", "%2B19998880042", "9998880042", "+19998880042"]) {
          const res = await t.request("GET", `${V2}/chats?phone_number=${form}`);
          assert.equal(res.status, 200, `${form}: ${res.raw}`);
          assert.equal(res.body.meta.total_count, 5);
        }
      });

      it("lists the chats a participant's number takes part in, from every line, and none for a stranger", async () => {
        const friend = "+12025550177";
        const oneToOne = await createChat(t, [friend], "hi", { sendFrom: number });
        const group = await createChat(t, ["+12025550178", friend], "hi all");
        await createChat(t, ["+12025550179"], "not them");
        for (const form of ["%2B12025550177", "2025550177"]) {
          const res = await t.request("GET", `${V2}/chats?phone_number=${form}`);
          assert.equal(res.status, 200, res.raw);
          assert.deepEqual(res.body.data.map((c: any) => c.id), [group.id, oneToOne.id]);
          assert.deepEqual(res.body.meta, { page: 1, total_pages: 1, total_count: 2, per_page: 25 });
        }
        const stranger = await t.request("GET", `${V2}/chats?phone_number=%2B15550009999`);
        assert.equal(stranger.status, 200, stranger.raw);
        assert.deepEqual(stranger.body, { data: [], meta: { page: 1, total_pages: 0, total_count: 0, per_page: 25 } });
        const other = await t.secondOrg();
        const foreign = await t.request("GET", `${V2}/chats?phone_number=%2B12025550177`, { token: other.token });
        assert.equal(foreign.body.meta.total_count, 0, "another organization's chats stay invisible");
      });

      it("refuses a missing or malformed number and bad paging", async () => {
        assertRenderError(await t.request("GET", `${V2}/chats`), 400, /phone_number/);
        assertRenderError(await t.request("GET", `${V2}/chats?phone_number=555-123-4567`), 422, /phone_number/);
        assertRenderError(await t.request("GET", `${V2}/chats?phone_number=${number.slice(1)}&per_page=0`), 400, /per_page/);
        assertRenderError(await t.request("GET", `${V2}/chats?phone_number=${number.slice(1)}&page=abc`), 400, /page/);
      });
    });

    describe("GET /chats/find", () => {
      it("finds a 1:1 chat, and a group in any participant order", async () => {
        const single = await createChat(t, ["+13055550001"]);
        const group = await createChat(t, ["+13055550002", "+13055550003"]);
        const one = await t.request(
          "GET",
          `${V2}/chats/find?phone_number=%2B19998887777&phone_numbers%5B%5D=%2B13055550001`,
        );
        assert.equal(one.status, 200);
        assert.equal(one.body.data.chat.id, single.id);
        assert.equal(one.body.data.chat.display_name, "+1 (305) 555-0001");
        const both = await t.request(
          "GET",
          `${V2}/chats/find?phone_number=9998887777&phone_numbers[]=3055550003&phone_numbers[]=%2B13055550002`,
        );
        assert.equal(both.body.data.chat.id, group.id);
        const unbracketed = await t.request(
          "GET",
          `${V2}/chats/find?phone_number=9998887777&phone_numbers=%2B13055550001`,
        );
        assert.equal(unbracketed.body.data.chat.id, single.id);
      });

      it("answers 200 with chat null and no messages when nothing matches (exact set only)", async () => {
        await createChat(t, ["+13055550011", "+13055550012"]);
        for (const query of ["phone_numbers[]=%2B13055550011", "phone_numbers[]=%2B13059999999"]) {
          const res = await t.request("GET", `${V2}/chats/find?phone_number=%2B19998887777&${query}`);
          assert.equal(res.status, 200);
          assert.deepEqual(res.body, { data: { chat: null, messages: [] } });
        }
      });

      it("refuses missing parameters and bad formats", async () => {
        assertRenderError(await t.request("GET", `${V2}/chats/find?phone_numbers[]=%2B13055550001`), 400, /phone_number/);
        assertRenderError(await t.request("GET", `${V2}/chats/find?phone_number=%2B19998887777`), 400, /phone_numbers\[\]/);
        assertRenderError(
          await t.request("GET", `${V2}/chats/find?phone_number=%2B19998887777&phone_numbers[]=(305)%20555-0001`),
          422,
          /phone_numbers\[0\].*\+12223334444/,
        );
      });
    });

    describe("group membership", () => {
      const changeMembers = async (chatId: number, change: { add?: string[]; remove?: string[] }) => {
        const res = await t.request("POST", "/openlinq/v1/simulate/participants", { body: { chat_id: chatId, ...change } });
        assert.equal(res.status, 200, res.raw);
      };
      const find = async (participants: string[]) => {
        const query = participants.map((p) => `phone_numbers[]=${encodeURIComponent(p)}`).join("&");
        const res = await t.request("GET", `${V2}/chats/find?phone_number=${encodeURIComponent(OUR_NUMBER)}&${query}`);
        assert.equal(res.status, 200, res.raw);
        return res.body.data.chat;
      };
      const [ann, bob, cat, dan] = ["+14155550101", "+14155550102", "+14155550103", "+14155550104"];

      it("create and find reach a group by its current members after someone leaves or joins", async () => {
        const group = await createChat(t, [ann, bob, cat], "Team");
        await changeMembers(group.id, { remove: [cat] });
        assert.equal((await find([bob, ann]))?.id, group.id);
        const again = await createChat(t, [ann, bob], "Still the team?");
        assert.equal(again.id, group.id, "no duplicate chat for the current members");
        assert.equal(again.message_count, 2);

        await changeMembers(group.id, { add: [dan] });
        assert.equal((await find([ann, bob, dan]))?.id, group.id);
        assert.equal(await find([ann, bob]), null);
        assert.equal((await createChat(t, [dan, ann, bob], "Welcome Dan")).id, group.id);
        assert.deepEqual(
          (await listMessages(t, group.id)).map((m) => m.text),
          ["Team", "Still the team?", "Welcome Dan"],
        );
      });

      it("the original set (with someone who left) does not reach the group they left", async () => {
        const group = await createChat(t, [ann, cat, dan], "Original");
        await changeMembers(group.id, { remove: [dan] });
        assert.equal(await find([ann, cat, dan]), null);
        const fresh = await createChat(t, [ann, cat, dan], "To all three");
        assert.notEqual(fresh.id, group.id);
        assert.equal(fresh.message_count, 1);
        assert.deepEqual((await listMessages(t, group.id)).map((m) => m.text), ["Original"]);
      });

      it("when another chat already has the new members, that chat keeps being found", async () => {
        const pair = await createChat(t, [bob, dan], "Just the two");
        const group = await createChat(t, [bob, dan, ann], "Three");
        await changeMembers(group.id, { remove: [ann] });
        assert.equal((await find([bob, dan]))?.id, pair.id);
        assert.equal((await createChat(t, [dan, bob], "Pair again")).id, pair.id);
        // The group's former set is free again.
        assert.equal(await find([bob, dan, ann]), null);
      });
    });

    describe("contact names", () => {
      it("chats and webhook chat_handles show the contact's name for a handle that has one", async () => {
        const hooks = await listen(t, ["chat.created", "message.sent"]);
        try {
          const [john, jane, stranger] = ["+14155550201", "+14155550202", "+14155550203"];
          for (const [first_name, last_name, phone_number] of [["John", "Doe", john], ["Jane", "Smith", "(415) 555-0202"]]) {
            const res = await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name, last_name, phone_number } } });
            assert.equal(res.status, 201, res.raw);
          }
          const oneToOne = await createChat(t, [john], "Hi John");
          assert.equal(oneToOne.display_name, "John Doe");
          assert.equal(oneToOne.chat.display_name, "John Doe");
          const group = await createChat(t, [john, jane], "Hi both");
          assert.equal(group.display_name, "John Doe, Jane Smith");
          const mixed = await createChat(t, [stranger, jane], "Hi");
          assert.equal(mixed.display_name, "+1 (415) 555-0203, Jane Smith");
          assert.equal((await t.request("GET", `${V2}/chats/${group.id}`)).body.data.display_name, "John Doe, Jane Smith");
          const listed = await t.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(jane)}`);
          assert.deepEqual(listed.body.data.map((c: any) => c.display_name), ["+1 (415) 555-0203, Jane Smith", "John Doe, Jane Smith"]);
          const named = await createChat(t, [john, stranger], "Hi", { displayName: "Project X" });
          assert.equal(named.display_name, "Project X", "a name the creator gave wins");

          await hooks.receiver.waitFor((requests) => requests.length === 8);
          const ofGroup = (type: string) =>
            hooks.envelopes().find((e) => e.event_type === type && (e.data.id === String(group.id) || e.data.chat_id === String(group.id)))!;
          const created = ofGroup("chat.created");
          assert.equal(created.data.display_name, "John Doe, Jane Smith");
          const names = (e: any) => Object.fromEntries(e.data.chat_handles.map((h: any) => [h.identifier, h.display_name]));
          assert.deepEqual(names(created), { [OUR_NUMBER]: "+1 (999) 888-7777", [john]: "John Doe", [jane]: "Jane Smith" });
          const sent = ofGroup("message.sent");
          assert.deepEqual(names(sent), names(created));
          assert.equal(sent.data.chat.display_name, "John Doe, Jane Smith");
        } finally {
          await hooks.close();
        }
      });
    });

    describe("contact names of a loaded chat", () => {
      it("a handle shows its oldest named contact, matched by phone number or email", async () => {
        const [number, email] = ["+14155550211", "names.test@example.com"];
        for (const contact of [
          { first_name: "", last_name: "", phone_number: number },
          { first_name: "First", last_name: "Named", phone_number: number },
          { first_name: "Later", last_name: "Named", phone_number: number },
          { first_name: "Mail", last_name: "Only", email },
        ]) {
          const res = await t.request("POST", `${V2}/contacts`, { body: { contact } });
          assert.equal(res.status, 201, res.raw);
        }
        const chat = await createChat(t, [number, email], "Hi");
        const loaded = (await t.request("GET", `${V2}/chats/${chat.id}`)).body.data;
        assert.equal(loaded.display_name, "First Named, Mail Only");
        const sent = await t.request("POST", `${V2}/chats/${chat.id}/chat_messages`, { body: { text: "again" } });
        assert.equal(sent.status, 201, sent.raw);
        assert.equal((await t.request("GET", `${V2}/chats/${chat.id}`)).body.data.display_name, "First Named, Mail Only");
      });
    });

    describe("chat actions", () => {
      it("mark_as_read 204, start_typing 201, stop_typing 204, share_contact 201, all without a body", async () => {
        const chat = await createChat(t, ["+19175550001"]);
        const actions: [string, string, number][] = [
          ["PUT", "mark_as_read", 204],
          ["POST", "start_typing", 201],
          ["DELETE", "stop_typing", 204],
          ["POST", "share_contact", 201],
        ];
        for (const [method, action, status] of actions) {
          const plain = await t.request(method, `${V2}/chats/${chat.id}/${action}`);
          assert.equal(plain.status, status, `${action}: ${plain.raw}`);
          assert.equal(plain.raw, "");
          // Clients that always send Content-Type: application/json with no body are fine too.
          const typed = await t.request(method, `${V2}/chats/${chat.id}/${action}`, {
            headers: { "content-type": "application/json" },
          });
          assert.equal(typed.status, status, `${action} with content-type: ${typed.raw}`);
          const unknown = await t.request(method, `${V2}/chats/987654/${action}`);
          assertRenderError(unknown, 404, /Chat not found/);
        }
      });
    });
  });
}
