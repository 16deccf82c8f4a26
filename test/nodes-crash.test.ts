import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIALECTS, OUR_NUMBER } from "./helpers/app.ts";
import { killHard, spawnOpenlinq, stopGracefully, type Spawned } from "./helpers/processes.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { dropPostgresSchema } from "../src/storage/database.ts";

/**
 * Two `openlinq serve` nodes and one `openlinq worker` on one Postgres schema, as real
 * processes. Load goes through both nodes; one node is killed with -9 in the middle of it.
 * Afterwards, through the survivor: every acknowledged write is there exactly once with
 * exactly one event, every event reached the webhook receiver, 50 concurrent identical
 * sends spread over both nodes made one message, and the survivor serves all of it.
 */

const TOKEN = "nodes-crash-test-token";
const V2 = "/api/partner/v2";
/** Concurrent request loops, and requests each makes. */
const LOOPS = 4;
const PER_LOOP = 24;
/** The node dies once this many writes were acknowledged. */
const KILL_AFTER = 40;

interface Reply {
  status: number;
  body: any;
}

async function call(baseUrl: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { "x-linq-integration-token": TOKEN, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ok(baseUrl: string, method: string, path: string, body?: unknown): Promise<any> {
  const reply = await call(baseUrl, method, path, body);
  assert.ok(reply.status < 300, `${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Every page of the webhook event log of one type. */
async function eventsOf(baseUrl: string, type: string): Promise<{ id: string }[]> {
  const events: { id: string }[] = [];
  for (let page = 1; ; page += 1) {
    const log = await ok(baseUrl, "GET", `/openlinq/v1/events?event_type=${type}&per_page=100&page=${page}`);
    events.push(...log.events);
    if (log.events.length < 100) return events;
  }
}

describe("two serve nodes and a worker on one Postgres; one node is killed with -9 under load", {
  skip: !DIALECTS.includes("postgres") && "TEST_DATABASE_URL not set",
}, () => {
  const running: Spawned[] = [];
  let receiver: Receiver;
  const schema = `nodes_${randomBytes(6).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "openlinq-nodes-"));

  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await Promise.all(running.map(killHard));
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
    await dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
  });

  it("keeps every acknowledged write once, delivers every event, and the survivor serves it all", async () => {
    const env = {
      OPENLINQ_TOKEN: TOKEN,
      OPENLINQ_PORT: "0",
      OPENLINQ_LOG_LEVEL: "warn",
      OPENLINQ_RATE_LIMIT: "0",
      OPENLINQ_PHONE_NUMBERS: OUR_NUMBER,
      OPENLINQ_DATA_DIR: dataDir,
      OPENLINQ_DATABASE_URL: process.env.TEST_DATABASE_URL!,
      OPENLINQ_DATABASE_SCHEMA: schema,
      OPENLINQ_WEBHOOK_TIMEOUT: "2s",
      OPENLINQ_WEBHOOK_CLAIM_TTL: "3s",
      OPENLINQ_WEBHOOK_RETRY_SCHEDULE: "200ms,500ms,1s,2s",
      OPENLINQ_WEBHOOK_POLL_INTERVAL: "200ms",
      OPENLINQ_WEBHOOK_CONCURRENCY: "4",
    };
    // The first start migrates; the others then start at once.
    const a = await spawnOpenlinq(["serve"], env);
    running.push(a);
    const [b, worker] = await Promise.all([spawnOpenlinq(["serve"], env), spawnOpenlinq(["worker"], env)]);
    running.push(b!, worker!);
    const nodes = [a.baseUrl!, b!.baseUrl!];

    await ok(nodes[0]!, "POST", `${V2}/webhook_subscriptions`, {
      webhook_subscription: { webhook_url: `${receiver.url}/nodes`, version: 2, events: ["message.sent", "contact.created"] },
    });
    const chat = (await ok(nodes[1]!, "POST", `${V2}/chats`, {
      send_from: OUR_NUMBER,
      chat: { phone_numbers: ["+15557770001"] },
      message: { text: "hello from node B" },
    })).data;

    // 50 identical sends at once, half through each node: one message.
    const identical = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(nodes[i % 2]!, "POST", `${V2}/chats/${chat.id}/chat_messages`, {
          message: { text: "exactly once", idempotency_key: "same-key-on-both-nodes" },
        }),
      ),
    );
    assert.deepEqual([...new Set(identical.map((r) => r.status))].sort(), [200, 201]);
    assert.equal(identical.filter((r) => r.status === 201).length, 1, "one send created the message, the others replayed it");
    const idempotentId = identical[0]!.body.data.id;
    assert.ok(identical.every((r) => r.body.data.id === idempotentId), "every reply names the same message");

    // Load through both nodes; node A dies in the middle of it.
    const acknowledged = { contacts: [] as number[], messages: [] as number[] };
    let aDead = false;
    let killing: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: LOOPS }, async (_, loop) => {
        for (let i = 0; i < PER_LOOP; i += 1) {
          const node = aDead ? nodes[1]! : nodes[(loop + i) % 2]!;
          const write =
            i % 2 === 0
              ? call(node, "POST", `${V2}/contacts`, { contact: { first_name: `l${loop}-${i}` } }).then((r) => {
                  if (r.status === 201) acknowledged.contacts.push(r.body.contact.id);
                  return r;
                })
              : call(node, "POST", `${V2}/chats/${chat.id}/chat_messages`, { message: { text: `l${loop}-${i}` } }).then((r) => {
                  if (r.status === 201) acknowledged.messages.push(r.body.data.id);
                  return r;
                });
          // A request cut by the kill is not acknowledged; whether it committed is not known.
          const reply = await write.catch(() => undefined);
          if (reply) assert.ok(reply.status === 201, `unexpected ${reply.status}: ${JSON.stringify(reply.body)}`);
          if (!killing && acknowledged.contacts.length + acknowledged.messages.length >= KILL_AFTER) {
            killing = killHard(a).then(() => void (aDead = true));
          }
        }
      }),
    );
    await killing;
    assert.ok(aDead, "node A was killed during the load");
    const survivor = nodes[1]!;

    // Every acknowledged contact and message exactly once, through the survivor.
    const contacts = new Map<number, number>();
    for (let page = 1; ; page += 1) {
      const list = await ok(survivor, "GET", `${V2}/contacts?per_page=100&page=${page}`);
      for (const contact of list.contacts) contacts.set(contact.id, (contacts.get(contact.id) ?? 0) + 1);
      if (list.contacts.length < 100) break;
    }
    for (const id of acknowledged.contacts) assert.equal(contacts.get(id), 1, `contact ${id} listed once`);
    const messages = new Map<number, number>();
    for (let page = 1; ; page += 1) {
      const list = await ok(survivor, "GET", `${V2}/chats/${chat.id}/chat_messages?per_page=100&page=${page}`);
      for (const message of list.data) messages.set(message.id, (messages.get(message.id) ?? 0) + 1);
      if (list.data.length < 100) break;
    }
    for (const id of [...acknowledged.messages, idempotentId]) assert.equal(messages.get(id), 1, `message ${id} listed once`);
    assert.ok([...messages.values()].every((n) => n === 1), "no message listed twice");
    assert.ok([...contacts.values()].every((n) => n === 1), "no contact listed twice");

    // Every event in the log reaches the receiver, with the same bytes on every attempt.
    const contactEvents = await eventsOf(survivor, "contact.created");
    const sentEvents = await eventsOf(survivor, "message.sent");
    const eventIds = [...contactEvents, ...sentEvents].map((e) => e.id);
    await receiver.waitFor(() => eventIds.every((id) => receiver.byEvent().get(id)?.some((r) => r.answeredWith === 200)), 30_000);
    const subjects = new Map<string, number>();
    for (const id of eventIds) {
      const requests = receiver.byEvent().get(id)!;
      assert.ok(requests.every((r) => r.body === requests[0]!.body), `event ${id}: same body on every attempt`);
      const envelope = JSON.parse(requests[0]!.body);
      const subject = `${envelope.event_type} ${Number(envelope.data.id)}`;
      subjects.set(subject, (subjects.get(subject) ?? 0) + 1);
    }
    // Exactly one event per acknowledged write; none more for the 49 replayed sends.
    for (const id of acknowledged.contacts) assert.equal(subjects.get(`contact.created ${id}`), 1, `one contact.created for contact ${id}`);
    for (const id of [...acknowledged.messages, idempotentId]) {
      assert.equal(subjects.get(`message.sent ${id}`), 1, `one message.sent for message ${id}`);
    }
    assert.ok([...subjects.values()].every((n) => n === 1), "no write has two events");

    const ready = await fetch(`${survivor}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(await stopGracefully(b!), 0);
    assert.equal(await stopGracefully(worker!), 0);
  });
});
