import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { contactFacts } from "../src/core/events/domain-events.ts";
import { emitEvent } from "../src/core/webhooks/events.ts";
import type { DeliveryWorker } from "../src/delivery/worker.ts";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { fakeNetwork } from "./helpers/network.ts";
import { createManualClock, type ManualClock } from "./helpers/manual-clock.ts";
import { startReceiver, type ReceivedRequest, type Receiver } from "./helpers/receiver.ts";
import { V2, assertRenderError, createChat } from "./helpers/v2.ts";

const LOG = "/openlinq/v1";
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Delivery config of these tests: exact delays (no jitter) so the manual clock lands on them. */
const DELIVERY_CONFIG = {
  WEBHOOK_RETRY_SCHEDULE: "5s,30s,2m",
  WEBHOOK_RETRY_JITTER_PERCENT: "0",
  WEBHOOK_TIMEOUT: "2s",
  WEBHOOK_CLAIM_TTL: "20s",
};

/** Keys sorted recursively, no whitespace: written here independently of the product's serializer. */
function isCanonical(body: string): boolean {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : value !== null && typeof value === "object"
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sort((value as Record<string, unknown>)[k])]),
          )
        : value;
  return JSON.stringify(sort(JSON.parse(body))) === body;
}

/** The V2 scheme checked with node:crypto directly: HMAC-SHA256 over the raw body, keyed by the secret as given. */
function verifyV2(request: ReceivedRequest, secret: string): boolean {
  const header = String(request.headers["x-webhook-signature"] ?? "");
  if (!header.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", secret).update(request.body).digest();
  const given = Buffer.from(header.slice("sha256=".length), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function headersOf(request: ReceivedRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
}

async function subscribe(
  t: TestApp,
  receiver: Receiver,
  events: string[],
  extra: { secret?: string; active?: boolean; token?: string } = {},
): Promise<{ id: number; secret: string }> {
  const res = await t.request("POST", `${V2}/webhook_subscriptions`, {
    token: extra.token,
    body: {
      webhook_subscription: {
        webhook_url: `${receiver.url}/hooks/linq`,
        version: 2,
        events,
        ...(extra.secret ? { secret: extra.secret } : {}),
        ...(extra.active === false ? { active: false } : {}),
      },
    },
  });
  assert.equal(res.status, 201, res.raw);
  return { id: res.body.webhook_subscription.id, secret: res.body.webhook_subscription.secret };
}

async function subscriptionState(t: TestApp, id: number) {
  const res = await t.request("GET", `${V2}/webhook_subscriptions`);
  return res.body.webhook_subscriptions.find((s: { id: number }) => s.id === id);
}

async function createContact(t: TestApp, firstName: string, token?: string): Promise<number> {
  const res = await t.request("POST", `${V2}/contacts`, {
    token,
    body: { contact: { first_name: firstName, last_name: "Tester", phone_number: "+15550001111" } },
  });
  assert.equal(res.status, 201, res.raw);
  return res.body.data.id;
}

async function eventDetail(t: TestApp, eventId: string) {
  const res = await t.request("GET", `${LOG}/events/${eventId}`);
  assert.equal(res.status, 200, res.raw);
  return res.body.event;
}

for (const dialect of DIALECTS) {
  describe(`webhook delivery (${dialect})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let worker: DeliveryWorker;
    const receivers: Receiver[] = [];
    const newReceiver = async () => {
      const receiver = await startReceiver();
      receivers.push(receiver);
      return receiver;
    };
    /** Moves time on and lets the worker do everything that fell due. */
    const advance = async (ms: number) => {
      clock.advance(ms);
      return (await worker.runDue()).attempts;
    };

    before(async () => {
      clock = createManualClock(new Date());
      t = await startTestApp(dialect, { config: DELIVERY_CONFIG, overrides: { clock } });
      worker = t.openlinq.worker!;
    });
    afterEach(async () => {
      // Each test's subscriptions end with it, so later events fan out only to the next test's.
      const list = await t.request("GET", `${V2}/webhook_subscriptions`);
      for (const s of list.body.webhook_subscriptions) await t.request("DELETE", `${V2}/webhook_subscriptions/${s.id}`);
      await Promise.all(receivers.splice(0).map((r) => r.close()));
    });
    after(async () => {
      await t.close();
    });

    it("delivers the V2 API's events signed, canonical, with both envelopes and both signature schemes", async () => {
      const receiver = await newReceiver();
      const sub = await subscribe(t, receiver, [
        "chat.created",
        "message.sent",
        "reaction.sent",
        "message.read",
        "contact.created",
        "contact.updated",
        "contact.deleted",
      ]);
      assert.match(sub.secret, /^whsec_[A-Za-z0-9+/]+=*$/, "generated secrets are whsec_ + standard base64");

      const chat = await createChat(t, ["+15557770001"], "Hello webhooks");
      const react = await t.request("POST", `${V2}/chat_messages/${chat.chat_messages.id}/reactions`, {
        body: { type: "love", operation: "add" },
      });
      assert.equal(react.status, 201, react.raw);
      // An inbound message (the outside world) to mark read.
      const inbound = await t.openlinq.deps.store.transaction(async (tx) => {
        const handles = (await tx.chats.handlesFor([chat.id])).get(chat.id)!;
        const them = handles.find((h) => !h.isMe)!;
        return tx.messages.create({
          orgId: 1,
          chatId: chat.id,
          chatHandleId: them.id,
          isFromMe: false,
          text: "Hi back",
          sentAt: clock.now(),
          deliveredAt: clock.now(),
          deliveryStatus: "delivered",
          editedAt: null,
          isRead: false,
          readAt: null,
          idempotencyKey: null,
        });
      });
      assert.equal((await t.request("PUT", `${V2}/chats/${chat.id}/mark_as_read`)).status, 204);
      const contactId = await createContact(t, "Ada");
      assert.equal(
        (await t.request("PUT", `${V2}/contacts/${contactId}`, { body: { contact: { first_name: "Ada B" } } })).status,
        200,
      );
      assert.equal((await t.request("DELETE", `${V2}/contacts/${contactId}`)).status, 204);

      await worker.runDue();
      const types = receiver.requests.map((r) => JSON.parse(r.body).event_type);
      assert.deepEqual([...types].sort(), [
        "chat.created",
        "contact.created",
        "contact.deleted",
        "contact.updated",
        "message.read",
        "message.sent",
        "reaction.sent",
      ]);

      const standard = new Webhook(sub.secret);
      for (const request of receiver.requests) {
        const envelope = JSON.parse(request.body);
        assert.equal(request.method, "POST");
        assert.equal(request.path, "/hooks/linq");
        assert.equal(request.headers["content-type"], "application/json");
        assert.ok(isCanonical(request.body), `body is canonical JSON: ${request.body.slice(0, 80)}`);
        assert.equal(envelope.api_version, "v2");
        assert.match(envelope.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(envelope.event, envelope.event_type, "seed envelope key");
        assert.equal(typeof envelope.timestamp, "string");
        assert.equal(typeof envelope.created_at, "string");
        assert.equal(request.headers["x-webhook-event"], envelope.event_type);
        assert.equal(request.headers["x-webhook-subscription-id"], String(sub.id));
        assert.match(String(request.headers["x-webhook-timestamp"]), /^\d{10}$/);
        assert.equal(request.headers["webhook-id"], envelope.event_id);
        assert.equal(request.headers["webhook-timestamp"], request.headers["x-webhook-timestamp"]);
        assert.ok(verifyV2(request, sub.secret), "X-Webhook-Signature verifies with node:crypto");
        assert.deepEqual(standard.verify(request.body, headersOf(request)), envelope, "webhook-signature verifies");
      }

      const sent = receiver.requests.map((r) => JSON.parse(r.body)).find((e) => e.event_type === "message.sent");
      assert.equal(sent.data.id, String(chat.chat_messages.id), "reference: string ids");
      assert.equal(sent.data.chat_id, String(chat.id));
      assert.equal(sent.data.text, "Hello webhooks");
      assert.equal(sent.data.from_phone, OUR_NUMBER);
      assert.match(sent.data.sent_at, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
      assert.equal(sent.data.message.id, chat.chat_messages.id, "seed: nested message with integer id");
      assert.equal(sent.data.message.sent_from, OUR_NUMBER);
      assert.equal(sent.data.chat.id, chat.id, "seed: nested chat");
      const read = receiver.requests.map((r) => JSON.parse(r.body)).find((e) => e.event_type === "message.read");
      assert.equal(read.data.id, String(inbound.id));

      const state = await subscriptionState(t, sub.id);
      assert.equal(state.delivery_attempts, 7);
      assert.equal(typeof state.last_delivered_at, "string");
    });

    it("fans out one delivery per active subscription whose events include the type", async () => {
      const receiver = await newReceiver();
      const listening = await subscribe(t, receiver, ["message.sent"]);
      const also = await subscribe(t, receiver, ["message.sent", "contact.created"], { secret: "a-user-given-secret" });
      await subscribe(t, receiver, ["contact.created"]);
      await subscribe(t, receiver, ["message.sent"], { active: false });

      await createChat(t, ["+15557770002"], "fan out");
      await worker.runDue();
      const sent = receiver.requests.filter((r) => r.headers["x-webhook-event"] === "message.sent");
      assert.deepEqual(sent.map((r) => Number(r.headers["x-webhook-subscription-id"])).sort(), [listening.id, also.id].sort());
      assert.equal(sent[0]!.body, sent[1]!.body, "every subscription gets the same bytes");
      const userSecret = sent.find((r) => Number(r.headers["x-webhook-subscription-id"]) === also.id)!;
      assert.ok(verifyV2(userSecret, "a-user-given-secret"));
      const raw = new Webhook("a-user-given-secret", { format: "raw" });
      assert.ok(raw.verify(userSecret.body, headersOf(userSecret)), "user secrets verify as raw keys");
    });

    it("commits the event with the change: a rolled-back transaction emits nothing", async () => {
      const receiver = await newReceiver();
      await subscribe(t, receiver, ["contact.created"]);
      const before = (await t.request("GET", `${LOG}/events?event_type=contact.created`)).body.pagination.total_count;
      await assert.rejects(
        t.openlinq.deps.store.transaction(async (tx) => {
          const at = new Date();
          const contact = { id: 999, orgId: 1, ownerUserId: null, firstName: "Ada", lastName: "", email: "", phoneNumber: "", company: "", title: "", location: "", imageUrl: null, createdAt: at, updatedAt: at, owner: null };
          await emitEvent(tx, t.openlinq.deps, 1, { type: "contact.created", contact: contactFacts(contact) });
          throw new Error("the change fails after the event was written");
        }),
        /the change fails/,
      );
      t.openlinq.deps.outbox.notify();
      await worker.runDue();
      assert.equal(receiver.requests.length, 0);
      const afterCount = (await t.request("GET", `${LOG}/events?event_type=contact.created`)).body.pagination.total_count;
      assert.equal(afterCount, before);
    });

    it("retries 5xx, 408, timeouts and dropped connections on the schedule with the same bytes, then succeeds", async () => {
      const receiver = await newReceiver();
      const sub = await subscribe(t, receiver, ["contact.created"]);
      receiver.queue({ status: 500, body: "boom" }, { hang: true }, { closeSocket: true });
      await createContact(t, "Retry");
      await worker.runDue();
      assert.equal(receiver.requests.length, 1);

      assert.equal(await advance(5 * SECOND - 1), 0, "not before the first delay");
      assert.equal(await advance(1), 1, "second attempt after 5 s (it times out)");
      assert.equal(await advance(30 * SECOND), 1, "third attempt after 30 s (connection dropped)");
      assert.equal(await advance(2 * MINUTE - 1), 0);
      assert.equal(await advance(1), 1, "fourth attempt after 2 min succeeds");
      assert.equal(await advance(10 * MINUTE), 0, "nothing after success");

      const [first, ...rest] = receiver.requests;
      assert.equal(receiver.requests.length, 4);
      for (const request of rest) {
        assert.equal(request.body, first!.body, "identical body on every attempt");
        assert.equal(request.headers["webhook-id"], first!.headers["webhook-id"]);
        assert.equal(request.headers["x-webhook-signature"], first!.headers["x-webhook-signature"]);
        assert.ok(verifyV2(request, sub.secret));
      }
      assert.notEqual(rest[2]!.headers["webhook-timestamp"], first!.headers["webhook-timestamp"], "timestamps are per attempt");

      const event = await eventDetail(t, String(first!.headers["webhook-id"]));
      assert.equal(event.deliveries.length, 1);
      assert.equal(event.deliveries[0].status, "succeeded");
      assert.equal(event.deliveries[0].attempt_count, 4);
      const [a1, a2, a3, a4] = event.attempts;
      assert.deepEqual(
        event.attempts.map((a: any) => a.attempt_number),
        [1, 2, 3, 4],
      );
      assert.equal(a1.response.status, 500);
      assert.equal(a1.response.body, "boom");
      assert.equal(a1.request.body, first!.body);
      assert.equal(a1.request.headers["x-webhook-signature"], first!.headers["x-webhook-signature"]);
      assert.equal(a2.response, null);
      assert.match(a2.error, /timed out after 2000 ms/);
      assert.equal(a3.response, null);
      assert.ok(a3.error, "connection error recorded");
      assert.equal(a4.response.status, 200);
      assert.equal(a4.error, null);
      assert.ok(event.attempts.every((a: any) => Number.isInteger(a.duration_ms)));

      const state = await subscriptionState(t, sub.id);
      assert.equal(state.delivery_attempts, 4);
      assert.equal(state.last_delivered_at, a4.attempted_at);
    });

    it("gives up once the schedule is spent, and 408 counts as retryable", async () => {
      const receiver = await newReceiver();
      receiver.answer({ status: 503 });
      receiver.queue({ status: 408 });
      await subscribe(t, receiver, ["contact.created"]);
      await createContact(t, "Doomed");
      await worker.runDue();
      await advance(5 * SECOND);
      await advance(30 * SECOND);
      await advance(2 * MINUTE);
      assert.equal(receiver.requests.length, 4, "first attempt plus three retries");
      assert.equal(await advance(60 * MINUTE), 0);
      const event = await eventDetail(t, String(receiver.requests[0]!.headers["webhook-id"]));
      assert.equal(event.deliveries[0].status, "failed");
      assert.equal(event.deliveries[0].next_attempt_at, null);
      assert.match(event.deliveries[0].last_error, /HTTP 503.*gave up after 4 attempts/);
    });

    it("honours Retry-After on 429", async () => {
      const receiver = await newReceiver();
      receiver.queue({ status: 429, headers: { "retry-after": "90" } });
      await subscribe(t, receiver, ["contact.created"]);
      await createContact(t, "Patient");
      await worker.runDue();
      assert.equal(await advance(5 * SECOND), 0, "the schedule's 5 s is not enough");
      assert.equal(await advance(85 * SECOND - 1), 0);
      assert.equal(await advance(1), 1, "retried once Retry-After has passed");
      assert.equal(receiver.requests.at(-1)!.answeredWith, 200);
    });

    it("treats other 4xx as final; 410 Gone also deactivates the subscription", async () => {
      const refusing = await newReceiver();
      refusing.answer({ status: 400 });
      const gone = await newReceiver();
      gone.answer({ status: 410 });
      await subscribe(t, refusing, ["contact.created"]);
      const goneSub = await subscribe(t, gone, ["contact.created"]);

      await createContact(t, "Final");
      await worker.runDue();
      await advance(30 * MINUTE);
      assert.equal(refusing.requests.length, 1, "400 is not retried");
      assert.equal(gone.requests.length, 1, "410 is not retried");
      const state = await subscriptionState(t, goneSub.id);
      assert.equal(state.active, false);
      assert.equal(state.delivery_attempts, 1);

      await createContact(t, "After gone");
      await worker.runDue();
      assert.equal(gone.requests.length, 1, "an inactive subscription gets nothing new");
      assert.equal(refusing.requests.length, 2);
    });

    it("lists the delivery log by type, chat and time, paginated, scoped to the organization", async () => {
      const receiver = await newReceiver();
      receiver.answer({ status: 500, body: "x".repeat(10_000) });
      await subscribe(t, receiver, ["message.sent", "chat.created"]);
      const since = clock.now().toISOString();
      clock.advance(SECOND);
      const chat = await createChat(t, ["+15557770003"], "one");
      await t.request("POST", `${V2}/chats/${chat.id}/chat_messages`, { body: { message: { text: "two" } } });
      await t.request("POST", `${V2}/chats/${chat.id}/chat_messages`, { body: { text: "three" } });
      await worker.runDue();

      const byChat = await t.request("GET", `${LOG}/events?chat_id=${chat.id}&since=${encodeURIComponent(since)}`);
      assert.equal(byChat.status, 200, byChat.raw);
      const types = byChat.body.events.map((e: any) => e.event_type);
      assert.ok(types.includes("chat.created"));
      assert.ok(types.filter((x: string) => x === "message.sent").length >= 2);
      assert.ok(byChat.body.events.every((e: any) => e.chat_id === chat.id));

      const sentOnly = await t.request("GET", `${LOG}/events?chat_id=${chat.id}&event_type=message.sent&per_page=1&page=2`);
      assert.equal(sentOnly.body.events.length, 1);
      assert.equal(sentOnly.body.events[0].event_type, "message.sent");
      assert.equal(sentOnly.body.pagination.current_page, 2);
      assert.equal(sentOnly.body.pagination.per_page, 1);
      assert.equal(sentOnly.body.pagination.total_count, types.filter((x: string) => x === "message.sent").length);

      const future = await t.request("GET", `${LOG}/events?since=${encodeURIComponent(new Date(clock.now().getTime() + MINUTE).toISOString())}`);
      assert.deepEqual(future.body.events, []);

      // The chat's first event: its later ones wait behind it while it is retried (order per chat).
      const detail = await eventDetail(t, byChat.body.events.find((e: any) => e.event_type === "chat.created").id);
      assert.equal(detail.payload.event_id, detail.id);
      const [attempt] = detail.attempts;
      assert.equal(attempt.response.status, 500);
      assert.equal(attempt.response.body.length, 4096, "response bodies are truncated");
      assert.equal(attempt.response.headers["content-type"], "text/plain");
      assert.equal(attempt.request.headers["content-type"], "application/json");
      assert.equal(detail.deliveries[0].status, "pending");
      assert.equal(typeof detail.deliveries[0].next_attempt_at, "string");

      const other = await t.secondOrg();
      assertRenderError(await t.request("GET", `${LOG}/events/${detail.id}`, { token: other.token }), 404);
      const otherList = await t.request("GET", `${LOG}/events`, { token: other.token });
      assert.equal(otherList.body.pagination.total_count, 0);
      assertRenderError(await t.request("GET", `${LOG}/events`, { token: null }), 401);
      assertRenderError(await t.request("GET", `${LOG}/events?event_type=nope`), 400);
      assertRenderError(await t.request("GET", `${LOG}/events/${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}`), 404);
      assertRenderError(await t.request("GET", `${LOG}/events/not-a-uuid`), 400);
    });

    it("resends an event with the same bytes and event_id, to one subscription or to all", async () => {
      const receiver = await newReceiver();
      const first = await subscribe(t, receiver, ["contact.created"]);
      await createContact(t, "Again");
      await worker.runDue();
      assert.equal(receiver.requests.length, 1);
      const eventId = String(receiver.requests[0]!.headers["webhook-id"]);

      const late = await subscribe(t, receiver, ["message.sent"]);
      const one = await t.request("POST", `${LOG}/events/${eventId}/resend`, { body: { subscription_id: late.id } });
      assert.equal(one.status, 202, one.raw);
      assert.deepEqual(
        one.body.deliveries.map((d: any) => [d.subscription_id, d.result]),
        [[late.id, "queued"]],
      );
      await worker.runDue();
      assert.equal(receiver.requests.length, 2);
      assert.equal(receiver.requests[1]!.headers["x-webhook-subscription-id"], String(late.id));

      const all = await t.request("POST", `${LOG}/events/${eventId}/resend`);
      assert.equal(all.status, 202, all.raw);
      assert.deepEqual(
        all.body.deliveries.map((d: any) => d.subscription_id),
        [first.id],
        "without subscription_id: the subscriptions listening to the type",
      );
      await worker.runDue();
      assert.equal(receiver.requests.length, 3);
      for (const request of receiver.requests) {
        assert.equal(request.body, receiver.requests[0]!.body);
        assert.equal(request.headers["webhook-id"], eventId);
      }
      const detail = await eventDetail(t, eventId);
      const firstDelivery = detail.deliveries.find((d: any) => d.subscription_id === first.id);
      assert.equal(firstDelivery.status, "succeeded");
      assert.deepEqual(
        detail.attempts.filter((a: any) => a.subscription_id === first.id).map((a: any) => a.attempt_number),
        [1, 2],
      );

      assertRenderError(await t.request("POST", `${LOG}/events/${eventId}/resend`, { body: { subscription_id: 999999 } }), 404);
      const inactive = await subscribe(t, receiver, ["contact.created"], { active: false });
      assertRenderError(
        await t.request("POST", `${LOG}/events/${eventId}/resend`, { body: { subscription_id: inactive.id } }),
        422,
        /inactive/,
      );
      const other = await t.secondOrg();
      assertRenderError(await t.request("POST", `${LOG}/events/${eventId}/resend`, { token: other.token }), 404);
    });

    it("recovers every failed delivery of a subscription since a time", async () => {
      const receiver = await newReceiver();
      receiver.answer({ status: 400 });
      const sub = await subscribe(t, receiver, ["contact.created"]);
      await createContact(t, "Early");
      await worker.runDue();
      clock.advance(MINUTE);
      const since = clock.now().toISOString();
      await createContact(t, "Late one");
      await createContact(t, "Late two");
      await worker.runDue();
      assert.equal(receiver.requests.length, 3);

      receiver.answer({ status: 200 });
      const recovered = await t.request("POST", `${LOG}/webhook_subscriptions/${sub.id}/recover`, { body: { since } });
      assert.equal(recovered.status, 202, recovered.raw);
      assert.equal(recovered.body.requeued, 2);
      await worker.runDue();
      const names = receiver.requests.slice(3).map((r) => JSON.parse(r.body).data.first_name);
      assert.deepEqual(names.sort(), ["Late one", "Late two"]);

      const again = await t.request("POST", `${LOG}/webhook_subscriptions/${sub.id}/recover`, { body: { since } });
      assert.equal(again.body.requeued, 0, "succeeded deliveries are not recovered");
      assertRenderError(
        await t.request("POST", `${LOG}/webhook_subscriptions/${sub.id}/recover`, { body: { since: "yesterday" } }),
        400,
      );
      assertRenderError(await t.request("POST", `${LOG}/webhook_subscriptions/999999/recover`, { body: { since } }), 404);
    });
  });

  describe(`webhook workers sharing the queue (${dialect})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let receiver: Receiver;
    const workers: DeliveryWorker[] = [];
    const newWorker = () => {
      const worker = t.openlinq.newDeliveryWorker();
      workers.push(worker);
      return worker;
    };

    before(async () => {
      clock = createManualClock(new Date());
      // No in-process worker: the API alone, as with `serve --no-worker`.
      t = await startTestApp(dialect, {
        config: { ...DELIVERY_CONFIG, WORKER: "false", WEBHOOK_TIMEOUT: "10s", WEBHOOK_POLL_INTERVAL: "50ms" },
        overrides: { clock },
      });
      receiver = await startReceiver();
      await subscribe(t, receiver, ["contact.created"]);
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.close()));
      receiver.answer({ status: 200 });
      receiver.requests.length = 0;
    });
    after(async () => {
      await receiver.close();
      await t.close();
    });

    it("several workers claiming at once deliver every event exactly once", async () => {
      assert.equal(t.openlinq.worker, undefined);
      const crew = [newWorker(), newWorker(), newWorker()];
      for (let i = 0; i < 30; i += 1) await createContact(t, `Crowd ${i}`);
      await Promise.all(crew.map((w) => w.runDue()));
      const byEvent = receiver.byEvent();
      assert.equal(byEvent.size, 30);
      assert.ok([...byEvent.values()].every((requests) => requests.length === 1), "no attempt twice");
    });

    it("a backlog to a slow receiver is shared between workers, not held by the first to claim", async () => {
      receiver.answer({ status: 200, delayMs: 100 });
      for (let i = 0; i < 100; i += 1) await createContact(t, `Backlog ${i}`);
      const [first, second] = await Promise.all([newWorker().runDue(), newWorker().runDue()]);
      assert.equal(first.attempts + second.attempts, 100);
      assert.ok(first.attempts > 0 && second.attempts > 0, `shares ${first.attempts} and ${second.attempts}`);
      assert.equal(receiver.byEvent().size, 100);
    });

    it("a worker started apart from the API finds new events without the in-process signal", async () => {
      const worker = newWorker();
      await worker.start();
      await createContact(t, "Polled");
      // Postgres: LISTEN/NOTIFY wakes it; SQLite: the next poll (wall-clock time) does.
      await receiver.waitFor((requests) => requests.length === 1);
      await worker.runDue(); // lets the attempt be recorded before the worker closes
      assert.equal(receiver.requests[0]!.answeredWith, 200);
    });

    it("graceful shutdown hands back unfinished claims for another worker", async () => {
      receiver.answer({ hang: true });
      const leaving = newWorker();
      await createContact(t, "Handed back");
      const running = leaving.runDue();
      await receiver.waitFor((requests) => requests.length === 1);
      await leaving.close();
      await running;
      const eventId = String(receiver.requests[0]!.headers["webhook-id"]);
      let event = await eventDetail(t, eventId);
      assert.equal(event.deliveries[0].status, "pending");
      assert.equal(event.attempts.length, 0, "an abandoned attempt is not recorded");

      receiver.answer({ status: 200 });
      await newWorker().runDue();
      event = await eventDetail(t, eventId);
      assert.equal(event.deliveries[0].status, "succeeded");
      assert.equal(receiver.requests.length, 2);
      assert.equal(receiver.requests[1]!.body, receiver.requests[0]!.body);
    });

    it("claims of a worker that died expire and another worker retries them", async () => {
      receiver.answer({ hang: true });
      const dead = newWorker();
      await createContact(t, "Orphaned");
      void dead.runDue();
      await receiver.waitFor((requests) => requests.length === 1);
      receiver.answer({ status: 200 });

      const survivor = newWorker();
      assert.equal((await survivor.runDue()).attempts, 0, "the claim still holds");
      clock.advance(20 * SECOND);
      assert.equal((await survivor.runDue()).attempts, 1, "expired claim retaken");
      assert.equal(receiver.requests.length, 2);
      assert.equal(receiver.requests[1]!.answeredWith, 200);
      assert.equal(receiver.requests[1]!.body, receiver.requests[0]!.body);
    });
    it("removes finished events past the retention period and keeps those still pending", async () => {
      await createContact(t, "Old and done");
      await newWorker().runDue();
      const done = String(receiver.requests.at(-1)!.headers["webhook-id"]);
      receiver.answer({ status: 500 });
      await createContact(t, "Old and pending");
      await newWorker().runDue();
      const pending = String(receiver.requests.at(-1)!.headers["webhook-id"]);
      assert.notEqual(done, pending);

      clock.advance(31 * 24 * 60 * MINUTE); // retention is 30 days
      const sweeper = newWorker();
      await sweeper.start(); // sweeps at start, then hourly
      await sweeper.runDue();
      assertRenderError(await t.request("GET", `${LOG}/events/${done}`), 404);
      const kept = await eventDetail(t, pending);
      assert.equal(kept.deliveries[0].status, "pending");
    });
  });

  describe(`webhook subscription deleted while its deliveries are in flight (${dialect})`, () => {
    let t: TestApp;
    let clock: ManualClock;

    before(async () => {
      clock = createManualClock(new Date());
      t = await startTestApp(dialect, { config: { ...DELIVERY_CONFIG, WORKER: "false" }, overrides: { clock } });
    });
    after(async () => {
      await t.close();
    });

    it("records every attempt to the other subscription once, and drops the deleted one's cleanly", async () => {
      const kept = await startReceiver({ status: 200, delayMs: 150 });
      const deleted = await startReceiver({ status: 200, delayMs: 150 });
      const worker = t.openlinq.newDeliveryWorker();
      try {
        await subscribe(t, kept, ["contact.created"]);
        const doomed = await subscribe(t, deleted, ["contact.created"]);
        const events = 60;
        for (let i = 0; i < events; i += 1) await createContact(t, `Fan ${i}`);

        const running = worker.runDue();
        // Attempts to both are in flight (answers take 150 ms) when the subscription goes.
        await deleted.waitFor((requests) => requests.length >= 5);
        const removal = await t.request("DELETE", `${V2}/webhook_subscriptions/${doomed.id}`);
        assert.equal(removal.status, 204, removal.raw);
        await running;
        // Any attempt whose record was lost would still hold its claim: let claims lapse and retry.
        clock.advance(30 * SECOND);
        await worker.runDue();

        const byEvent = kept.byEvent();
        assert.equal(byEvent.size, events, "every event reached the other subscription");
        const twice = [...byEvent.values()].filter((requests) => requests.length > 1).length;
        assert.equal(twice, 0, "no event reached the other subscription twice");
        for (const eventId of byEvent.keys()) {
          const detail = await eventDetail(t, eventId);
          assert.equal(detail.deliveries.length, 1, "the deleted subscription's deliveries went with it");
          assert.equal(detail.deliveries[0].status, "succeeded");
          assert.equal(detail.attempts.length, 1, `the attempt of ${eventId} is in the log, once`);
          assert.equal(detail.attempts[0].response.status, 200);
        }
      } finally {
        await worker.close();
        await Promise.all([kept.close(), deleted.close()]);
      }
    });
  });

  describe(`webhook claims waiting for a slot (${dialect})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let receiver: Receiver;

    before(async () => {
      clock = createManualClock(new Date());
      // One slot: a second claimed delivery waits for it.
      t = await startTestApp(dialect, {
        config: { ...DELIVERY_CONFIG, WORKER: "false", WEBHOOK_CONCURRENCY: "1" },
        overrides: { clock },
      });
      receiver = await startReceiver();
      await subscribe(t, receiver, ["contact.created"]);
    });
    after(async () => {
      await receiver.close();
      await t.close();
    });

    it("a delivery whose claim ran low while it waited is not started, and goes out once its claim expires", async () => {
      const worker = t.openlinq.newDeliveryWorker();
      try {
        receiver.queue({ status: 200, delayMs: 300 });
        await createContact(t, "First");
        await createContact(t, "Second");
        const running = worker.runDue();
        await receiver.waitFor((requests) => requests.length === 1);
        // The claim lasts 20 s and an attempt may take 2 s: with 1 s left the second must not start.
        clock.advance(19 * SECOND);
        assert.equal((await running).attempts, 1);
        assert.equal(receiver.requests.length, 1, "the second delivery did not start on a claim about to expire");

        clock.advance(2 * SECOND);
        assert.equal((await worker.runDue()).attempts, 1, "claimed afresh once the old claim expired");
        const byEvent = receiver.byEvent();
        assert.equal(byEvent.size, 2);
        assert.ok([...byEvent.values()].every((requests) => requests.length === 1 && requests[0]!.answeredWith === 200));
      } finally {
        await worker.close();
      }
    });
  });

  describe(`webhook URL safety (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    // Names resolve from this table; every address leads to the loopback receiver.
    const names: Record<string, string[]> = { "hooks.example": ["11.22.33.44"] };
    before(async () => {
      t = await startTestApp(dialect, {
        config: { ...DELIVERY_CONFIG, ALLOW_PRIVATE_URLS: "false" },
        overrides: { network: fakeNetwork(names) },
      });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await t.close();
    });

    it("with OPENLINQ_ALLOW_PRIVATE_URLS=false refuses loopback receivers when registered, and at connect time, for good", async () => {
      const port = new URL(receiver.url).port;
      for (const url of [`http://localhost:${port}/by-name`, `http://127.0.0.1:${port}/by-address`]) {
        const res = await t.request("POST", `${V2}/webhook_subscriptions`, {
          body: { webhook_subscription: { webhook_url: url, version: 2, events: ["contact.created"] } },
        });
        assert.equal(res.status, 422, res.raw);
      }
      // A name that is public when registered and private when delivered to (DNS rebinding).
      const res = await t.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_subscription: { webhook_url: `http://hooks.example:${port}/rebound`, version: 2, events: ["contact.created"] } },
      });
      assert.equal(res.status, 201, res.raw);
      names["hooks.example"] = ["127.0.0.1"];
      await createContact(t, "Private");
      await t.openlinq.worker!.runDue();
      assert.equal(receiver.requests.length, 0, "nothing reached the loopback receiver");
      const list = await t.request("GET", `${LOG}/events?event_type=contact.created`);
      const event = await eventDetail(t, list.body.events[0].id);
      assert.equal(event.attempts.length, 1);
      for (const attempt of event.attempts) {
        assert.equal(attempt.response, null);
        assert.match(attempt.error, /private|loopback/);
      }
      assert.ok(event.deliveries.every((d: any) => d.status === "failed"), "refused URLs are not retried");
    });
  });
}
