/**
 * The references `npm run bench` holds openlinq against, in a process of their own:
 *
 *   POST /send   the durable-write limit: bare Fastify and the raw driver (better-sqlite3 in
 *                WAL with synchronous=NORMAL, as openlinq opens it; or pg with named prepared
 *                statements and a pool of 10, as openlinq's) committing the same writes one
 *                openlinq send commits, in the same transactions, on openlinq's own tables
 *                and indexes (a database openlinq migrated and seeded):
 *                  1. insert the message, update the chat's counters, insert the event
 *                     (a payload of `--event-bytes`), [insert one webhook delivery row when
 *                     `?delivery=1`], insert the outbound job — one transaction;
 *                  2. claim the job;
 *                  3. record the carrier's acceptance (the simulator's send row), store the
 *                     carrier id and the delivery status on the message (one update), insert
 *                     the message.delivered event — one transaction;
 *                  4. delete the job.
 *                It reads nothing it does not need, validates nothing, and answers a body of
 *                `--send-bytes`. It is the ceiling, not a competitor.
 *   GET /bytes/:name   bare Fastify answering fixed bytes (registered with PUT /bytes/:name):
 *                the ceiling for a read route.
 *
 * Usage (bench/api.bench.ts spawns it): node --import tsx bench/reference-server.ts
 *   --sqlite FILE | --postgres URL --schema NAME, --org ID --chat ID --handle ID --subscription ID
 * Prints "listening PORT" once ready.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import Fastify from "fastify";
import pg from "pg";

const { values } = parseArgs({
  options: {
    sqlite: { type: "string" },
    postgres: { type: "string" },
    schema: { type: "string" },
    org: { type: "string" },
    chat: { type: "string" },
    handle: { type: "string" },
    subscription: { type: "string" },
    "event-bytes": { type: "string", default: "1024" },
    "send-bytes": { type: "string", default: "256" },
  },
});
const orgId = Number(values.org);
const chatId = Number(values.chat);
const handleId = Number(values.handle);
const subscriptionId = Number(values.subscription);
const eventPayload = JSON.stringify({ type: "message.sent", data: "x".repeat(Number(values["event-bytes"]) - 40) });
const deliveryBody = eventPayload;
const sendAnswerPadding = "x".repeat(Math.max(0, Number(values["send-bytes"]) - 120));

interface SendWrites {
  send(withDelivery: boolean): Promise<{ id: number; uuid: string; sentAt: string }>;
}

/** The same statements openlinq's send commits, as raw prepared statements. */
function sqliteWrites(file: string): SendWrites {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  const insertMessage = db.prepare(
    `insert into messages (uuid, org_id, chat_id, chat_handle_id, is_from_me, text, sent_at, delivered_at, delivery_status,
       edited_at, is_read, read_at, idempotency_key, carrier_message_id, created_at, parts, effect, reply_to_uuid,
       reply_to_part_index, preferred_service)
     values (?, ?, ?, ?, 1, ?, ?, null, 'pending', null, 0, null, null, null, ?, null, null, null, null, null) returning id`,
  );
  const updateChat = db.prepare(
    `update chats set message_count = message_count + 1, last_activity_at = ?, updated_at = ? where id = ?`,
  );
  const insertEvent = db.prepare(
    `insert into events (id, org_id, event_type, chat_id, payload, payload_format, created_at) values (?, ?, 'message.sent', ?, ?, 'domain', ?)`,
  );
  const insertDelivery = db.prepare(
    `insert into webhook_deliveries (org_id, event_id, subscription_id, event_type, body, chat_id, status, attempt_count,
       next_attempt_at, claimed_until, claimed_by, last_response_status, last_error, created_at, updated_at)
     values (?, ?, ?, 'message.sent', ?, ?, 'pending', 0, ?, null, null, null, null, ?, ?)`,
  );
  const insertJob = db.prepare(
    `insert into outbound_jobs (org_id, kind, payload, run_at, attempts, max_attempts, claimed_by, claimed_until, last_error, created_at)
     values (?, 'message.send', ?, ?, 0, 25, null, null, null, ?) returning id`,
  );
  const claimJob = db.prepare(`update outbound_jobs set claimed_by = 'limit', claimed_until = ? where id = ?`);
  const insertSend = db.prepare(
    `insert into simulator_sends (message_id, org_id, carrier_message_id, status, delivered_at, created_at) values (?, ?, ?, 'delivered', ?, ?)`,
  );
  const setDelivered = db.prepare(
    `update messages set carrier_message_id = ?, delivery_status = 'delivered', delivered_at = ? where id = ? and carrier_message_id is null`,
  );
  const deleteJob = db.prepare(`delete from outbound_jobs where id = ?`);
  const insertDeliveredEvent = db.prepare(
    `insert into events (id, org_id, event_type, chat_id, payload, payload_format, created_at) values (?, ?, 'message.delivered', ?, ?, 'domain', ?)`,
  );

  const accept = db.transaction((text: string, now: string, withDelivery: boolean) => {
    const uuid = randomUUID();
    const { id } = insertMessage.get(uuid, orgId, chatId, handleId, text, now, now) as { id: number };
    updateChat.run(now, now, chatId);
    const eventId = randomUUID();
    insertEvent.run(eventId, orgId, chatId, eventPayload, now);
    if (withDelivery) insertDelivery.run(orgId, eventId, subscriptionId, deliveryBody, chatId, now, now, now);
    const { id: jobId } = insertJob.get(orgId, JSON.stringify({ messageId: id }), now, now) as { id: number };
    return { id, uuid, jobId };
  });
  const recordDelivered = db.transaction((id: number, now: string) => {
    insertSend.run(id, orgId, `sim-${orgId}-${id}`, now, now);
    setDelivered.run(`sim-${orgId}-${id}`, now, id);
    insertDeliveredEvent.run(randomUUID(), orgId, chatId, eventPayload, now);
  });
  return {
    async send(withDelivery) {
      const now = new Date().toISOString();
      const { id, uuid, jobId } = accept.immediate("Benchmark message", now, withDelivery);
      claimJob.run(now, jobId);
      recordDelivered.immediate(id, now);
      deleteJob.run(jobId);
      return { id, uuid, sentAt: now };
    },
  };
}

function postgresWrites(url: string, schema: string): SendWrites {
  const pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
  const q = (client: pg.PoolClient, name: string, text: string, params: unknown[]) => client.query({ name, text, values: params });
  return {
    async send(withDelivery) {
      const now = new Date().toISOString();
      const uuid = randomUUID();
      const client = await pool.connect();
      try {
        await client.query("begin");
        const { rows } = await q(
          client,
          "msg",
          `insert into messages (uuid, org_id, chat_id, chat_handle_id, is_from_me, text, sent_at, delivered_at, delivery_status,
             edited_at, is_read, read_at, idempotency_key, carrier_message_id, created_at, parts, effect, reply_to_uuid,
             reply_to_part_index, preferred_service)
           values ($1, $2, $3, $4, 1, $5, $6, null, 'pending', null, 0, null, null, null, $6, null, null, null, null, null) returning id`,
          [uuid, orgId, chatId, handleId, "Benchmark message", now],
        );
        const id = rows[0].id as number;
        await q(client, "chat", `update chats set message_count = message_count + 1, last_activity_at = $1, updated_at = $1 where id = $2`, [now, chatId]);
        const eventId = randomUUID();
        await q(
          client,
          "event",
          `insert into events (id, org_id, event_type, chat_id, payload, payload_format, created_at) values ($1, $2, 'message.sent', $3, $4, 'domain', $5)`,
          [eventId, orgId, chatId, eventPayload, now],
        );
        if (withDelivery) {
          await q(
            client,
            "delivery",
            `insert into webhook_deliveries (org_id, event_id, subscription_id, event_type, body, chat_id, status, attempt_count,
               next_attempt_at, claimed_until, claimed_by, last_response_status, last_error, created_at, updated_at)
             values ($1, $2, $3, 'message.sent', $4, $5, 'pending', 0, $6, null, null, null, null, $6, $6)`,
            [orgId, eventId, subscriptionId, deliveryBody, chatId, now],
          );
        }
        const job = await q(
          client,
          "job",
          `insert into outbound_jobs (org_id, kind, payload, run_at, attempts, max_attempts, claimed_by, claimed_until, last_error, created_at)
           values ($1, 'message.send', $2, $3, 0, 25, null, null, null, $3) returning id`,
          [orgId, JSON.stringify({ messageId: id }), now],
        );
        await client.query("commit");
        const jobId = job.rows[0].id as number;
        await q(client, "claim", `update outbound_jobs set claimed_by = 'limit', claimed_until = $1 where id = $2`, [now, jobId]);
        await client.query("begin");
        await q(
          client,
          "send",
          `insert into simulator_sends (message_id, org_id, carrier_message_id, status, delivered_at, created_at) values ($1, $2, $3, 'delivered', $4, $4)`,
          [id, orgId, `sim-${orgId}-${id}`, now],
        );
        await q(
          client,
          "delivered",
          `update messages set carrier_message_id = $1, delivery_status = 'delivered', delivered_at = $2 where id = $3 and carrier_message_id is null`,
          [`sim-${orgId}-${id}`, now, id],
        );
        await q(
          client,
          "delivered-event",
          `insert into events (id, org_id, event_type, chat_id, payload, payload_format, created_at) values ($1, $2, 'message.delivered', $3, $4, 'domain', $5)`,
          [randomUUID(), orgId, chatId, eventPayload, now],
        );
        await client.query("commit");
        await q(client, "done", `delete from outbound_jobs where id = $1`, [jobId]);
        return { id, uuid, sentAt: now };
      } catch (error) {
        await client.query("rollback").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

const writes = values.sqlite ? sqliteWrites(values.sqlite) : postgresWrites(values.postgres!, values.schema!);
const bodies = new Map<string, unknown>();
const app = Fastify({ logger: false });
app.post("/send", async (request, reply) => {
  const sent = await writes.send((request.query as { delivery?: string }).delivery === "1");
  return reply.code(201).send({ data: { id: sent.id, uuid: sent.uuid, sent_at: sent.sentAt, padding: sendAnswerPadding } });
});
// The parsed body, serialized again per request like any route's answer: the same bytes.
app.put<{ Params: { name: string }; Body: unknown }>("/bytes/:name", { bodyLimit: 16 * 1024 * 1024 }, async (request) => {
  bodies.set(request.params.name, request.body);
  return { ok: true };
});
app.get<{ Params: { name: string } }>("/bytes/:name", async (request) => bodies.get(request.params.name));
const address = await app.listen({ host: "127.0.0.1", port: 0 });
console.log(`listening ${new URL(address).port}`);
