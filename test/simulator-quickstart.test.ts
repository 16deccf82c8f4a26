import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, TEST_TOKEN, type TestApp } from "./helpers/app.ts";
import { hasValidV2Signature, startSandbox } from "./helpers/sandbox.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";

/**
 * The quickstart's step 3 ("receive messages with webhooks") end to end over real HTTP:
 * subscribe with the quickstart's body, send with its body, the simulated recipient replies
 * a minute later, and the receiver gets a signed message.received.
 */
for (const dialect of DIALECTS) {
  describe(`simulator: quickstart step 3 end to end (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let base: string;
    before(async () => {
      t = await startSandbox(dialect);
      await t.openlinq.listen();
      base = t.openlinq.baseUrl();
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await t.close();
    });

    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { "X-LINQ-INTEGRATION-TOKEN": TEST_TOKEN, ...(body ? { "Content-Type": "application/json" } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as any };
    };

    it("subscribes, sends, and receives the recipient's reply, signed", async () => {
      const recipient = "+15551234567";
      const profile = await call("PUT", `/openlinq/v1/handles/${encodeURIComponent(recipient)}`, {
        auto_reply: { type: "script", replies: [{ text: "Thanks! This is my reply.", delay_ms: 60_000 }] },
      });
      assert.equal(profile.status, 200);

      const subscription = await call("POST", "/api/partner/v2/webhook_subscriptions", {
        webhook_url: `${receiver.url}/webhooks/linq`,
        events: ["message.received", "message.sent"],
        version: 2,
        active: true,
      });
      assert.equal(subscription.status, 201);
      const secret: string = subscription.body.webhook_subscription.secret;

      const sent = await call("POST", "/api/partner/v2/chats", {
        phone_numbers: [recipient],
        message: { text: "Hello! This is my first message via the Linq API." },
        phone_number: OUR_NUMBER,
      });
      assert.equal(sent.status, 200);
      assert.equal(sent.body.data.message.delivery_status, "delivered");
      const chatId: number = sent.body.data.chat.id;

      const advanced = await call("POST", "/openlinq/v1/clock/advance", { ms: 60_000 });
      assert.equal(advanced.status, 200);

      const bodies = receiver.requests.map((r) => JSON.parse(r.body));
      assert.deepEqual(bodies.map((b) => b.event_type), ["message.sent", "message.received"]);
      const reply = receiver.requests[1]!;
      assert.equal(reply.path, "/webhooks/linq");
      assert.ok(hasValidV2Signature(reply, secret), "X-Webhook-Signature verifies with the subscription secret");
      const envelope = bodies[1];
      assert.equal(envelope.event, "message.received", "the quickstart's envelope key");
      assert.equal(envelope.data.text, "Thanks! This is my reply.");
      assert.equal(envelope.data.from_phone, recipient);
      assert.equal(envelope.data.chat_id, String(chatId));
      assert.deepEqual(envelope.data.message, {
        id: envelope.data.message.id,
        text: "Thanks! This is my reply.",
        sent_at: envelope.data.message.sent_at,
        sent_from: recipient,
        chat_id: chatId,
      });
      assert.deepEqual(envelope.data.chat, { id: chatId, display_name: "+1 (555) 123-4567", service: "iMessage" });
      assert.equal(
        Date.parse(envelope.data.message.sent_at) - Date.parse(sent.body.data.message.sent_at),
        60_000,
        "the reply comes a minute later, as in the quickstart's example",
      );
    });
  });
}
