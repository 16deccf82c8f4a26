import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { DeliveryWorker } from "../src/delivery/worker.ts";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { createManualClock, type ManualClock } from "./helpers/manual-clock.ts";
import { startReceiver, type ReceivedRequest, type Receiver } from "./helpers/receiver.ts";
import { V2, createChat, sendMessage } from "./helpers/v2.ts";

const ORDERED_EVENTS = ["chat.created", "message.sent", "message.read", "contact.created"];

/** [event_type, chat id] of a webhook request (the chat's own id for chat.created). */
function describeRequest(request: ReceivedRequest): [string, string] {
  const envelope = JSON.parse(request.body);
  return [envelope.event_type, String(envelope.data.chat_id ?? envelope.data.id)];
}

async function subscribe(t: TestApp, receiver: Receiver): Promise<void> {
  const res = await t.request("POST", `${V2}/webhook_subscriptions`, {
    body: { webhook_subscription: { webhook_url: `${receiver.url}/hooks`, version: 2, events: ORDERED_EVENTS } },
  });
  assert.equal(res.status, 201, res.raw);
}

for (const dialect of DIALECTS) {
  describe(`webhook order per chat (${dialect})`, () => {
    describe("with a failing delivery", () => {
      let t: TestApp;
      let clock: ManualClock;
      let worker: DeliveryWorker;
      let receiver: Receiver;
      before(async () => {
        clock = createManualClock(new Date());
        // One attempt at a time, so which request meets the receiver's failure is certain.
        t = await startTestApp(dialect, {
          config: { WEBHOOK_RETRY_SCHEDULE: "5s,30s", WEBHOOK_RETRY_JITTER_PERCENT: "0", WEBHOOK_CONCURRENCY: "1" },
          overrides: { clock },
        });
        worker = t.openlinq.worker!;
        receiver = await startReceiver();
        await subscribe(t, receiver);
      });
      after(async () => {
        await receiver.close();
        await t.close();
      });

      it("holds back only that chat's later events until it is delivered; other chats keep going", async () => {
        receiver.queue({ status: 500 });
        const a = await createChat(t, ["+16175550101"], "first");
        assert.equal((await sendMessage(t, a.id, { text: "second" })).status, 201);
        const b = await createChat(t, ["+16175550102"], "other chat");
        const contact = await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: "No", last_name: "Chat", phone_number: "+16175550199" } } });
        assert.equal(contact.status, 201, contact.raw);
        await worker.runDue();
        const delivered = () => receiver.requests.filter((r) => r.answeredWith === 200).map(describeRequest);
        assert.deepEqual(receiver.requests.map(describeRequest)[0], ["chat.created", String(a.id)]);
        // Chat b and the contact (no chat) went out; nothing more of chat a than its failed first event.
        assert.deepEqual(
          delivered().filter(([type]) => type !== "contact.created"),
          [
            ["chat.created", String(b.id)],
            ["message.sent", String(b.id)],
          ],
        );
        assert.ok(delivered().some(([type, id]) => type === "contact.created" && id === String(contact.body.data.id)));
        assert.equal(receiver.requests.length, 4);

        clock.advance(5000);
        await worker.runDue();
        assert.deepEqual(delivered().slice(3), [
          ["chat.created", String(a.id)],
          ["message.sent", String(a.id)],
          ["message.sent", String(a.id)],
        ]);
        const texts = receiver.requests.slice(-2).map((r) => JSON.parse(r.body).data.text);
        assert.deepEqual(texts, ["first", "second"]);
      });
    });

    describe("with default settings", () => {
      let t: TestApp;
      let receiver: Receiver;
      before(async () => {
        t = await startTestApp(dialect);
        receiver = await startReceiver();
        await subscribe(t, receiver);
      });
      afterEach(async () => {
        receiver.requests.length = 0;
      });
      after(async () => {
        await receiver.close();
        await t.close();
      });

      it("20 parallel chat creations: each chat's events arrive in commit order", async () => {
        const chats = await Promise.all(
          Array.from({ length: 20 }, (_, i) => createChat(t, [`+1617555${String(200 + i).padStart(4, "0")}`], `hello ${i}`)),
        );
        await Promise.all(chats.map((chat) => sendMessage(t, chat.id, { text: "again" })));
        await receiver.waitFor((requests) => requests.length === 60);
        for (const chat of chats) {
          const own = receiver.requests.map(describeRequest).filter(([, id]) => id === String(chat.id));
          assert.deepEqual(own.map(([type]) => type), ["chat.created", "message.sent", "message.sent"], `chat ${chat.id}`);
        }
      });
    });
  });
}
