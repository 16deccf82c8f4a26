import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIALECTS, OUR_NUMBER } from "./helpers/app.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { dropPostgresSchema } from "../src/storage/database.ts";
import { callApi, killHard, spawnOpenlinq, stopGracefully, type Spawned } from "./helpers/processes.ts";

/**
 * Crash safety with real processes: events committed before a kill -9 are delivered after
 * the restart, every attempt of an event carries the same bytes, and only attempts sent
 * and not yet recorded at the kill are repeated (at most 4 × concurrency).
 */

const TOKEN = "crash-test-token";
const MESSAGES = 24;
/** Attempts a worker has in flight at once; a kill leaves at most four times as many unrecorded. */
const CONCURRENCY = 4;

const api = (baseUrl: string, method: string, path: string, body?: unknown) => callApi(TOKEN, baseUrl, method, path, body);

/** Subscribes the receiver, then sends MESSAGES messages; returns the message.sent event ids the log knows. */
async function sendMessages(baseUrl: string, receiver: Receiver): Promise<void> {
  await api(baseUrl, "POST", "/api/partner/v2/webhook_subscriptions", {
    webhook_subscription: { webhook_url: `${receiver.url}/crash`, version: 2, events: ["message.sent"] },
  });
  const chat = await api(baseUrl, "POST", "/api/partner/v2/chats", {
    send_from: OUR_NUMBER,
    chat: { phone_numbers: ["+15558880001"] },
    message: { text: "message 0" },
  });
  for (let i = 1; i < MESSAGES; i += 1) {
    await api(baseUrl, "POST", `/api/partner/v2/chats/${chat.data.id}/chat_messages`, { message: { text: `message ${i}` } });
  }
}

async function sentEventIds(baseUrl: string): Promise<string[]> {
  const log = await api(baseUrl, "GET", "/openlinq/v1/events?event_type=message.sent&per_page=100");
  return log.events.map((e: { id: string }) => e.id);
}

/** Every event reached the receiver and was answered; bodies never differ between attempts. */
function assertDeliveredOnce(receiver: Receiver, eventIds: string[], maxRepeats: number): void {
  assert.equal(eventIds.length, MESSAGES);
  const byEvent = receiver.byEvent();
  let repeats = 0;
  for (const id of eventIds) {
    const requests = byEvent.get(id) ?? [];
    assert.ok(requests.some((r) => r.answeredWith === 200), `event ${id} delivered`);
    assert.ok(requests.every((r) => r.body === requests[0]!.body), `event ${id}: same body on every attempt`);
    repeats += requests.length - 1;
  }
  assert.ok(repeats <= maxRepeats, `${repeats} repeated attempts; only those in flight or not yet recorded at the kill (≤ ${maxRepeats}) may repeat`);
}

function assertKilledMidDelivery(receiver: Receiver): void {
  assert.ok(receiver.requests.some((r) => r.answeredWith === null), "attempts were in flight at the kill");
  receiver.answer({ status: 200 });
}

const baseEnv = {
  OPENLINQ_TOKEN: TOKEN,
  OPENLINQ_PORT: "0",
  OPENLINQ_LOG_LEVEL: "error",
  OPENLINQ_RATE_LIMIT: "0",
  OPENLINQ_PHONE_NUMBERS: OUR_NUMBER,
  OPENLINQ_WEBHOOK_TIMEOUT: "3s",
  OPENLINQ_WEBHOOK_CLAIM_TTL: "4s",
  OPENLINQ_WEBHOOK_RETRY_SCHEDULE: "200ms,500ms,1s,2s",
  OPENLINQ_WEBHOOK_POLL_INTERVAL: "200ms",
  OPENLINQ_WEBHOOK_CONCURRENCY: String(CONCURRENCY),
};

describe("webhook delivery survives kill -9", () => {
  const running: Spawned[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const track = (spawned: Spawned) => {
    running.push(spawned);
    return spawned;
  };
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await Promise.all(running.map(killHard));
    await receiver.close();
    for (const cleanup of cleanups) await cleanup();
  });

  it("SQLite: serve is killed mid-delivery; after a restart every event arrives, with the same bytes", async () => {
    receiver.requests.length = 0;
    // Slower than messages are sent: a backlog builds and attempts are in flight at the kill.
    receiver.answer({ status: 200, delayMs: 1000 });
    const dataDir = mkdtempSync(join(tmpdir(), "openlinq-crash-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { ...baseEnv, OPENLINQ_DATA_DIR: dataDir };

    const first = track(await spawnOpenlinq(["serve"], env));
    await sendMessages(first.baseUrl!, receiver);
    await receiver.waitFor((requests) => requests.length >= 6);
    await killHard(first);
    assertKilledMidDelivery(receiver);

    const second = track(await spawnOpenlinq(["serve"], env));
    const eventIds = await sentEventIds(second.baseUrl!);
    await receiver.waitFor(() => eventIds.every((id) => receiver.byEvent().get(id)?.some((r) => r.answeredWith === 200)));
    assertDeliveredOnce(receiver, eventIds, 4 * CONCURRENCY);
    await stopGracefully(second);
  });

  it("SQLite: `serve --no-worker` and `openlinq worker` share the database file under concurrent writes", async () => {
    receiver.requests.length = 0;
    receiver.answer({ status: 200 });
    const dataDir = mkdtempSync(join(tmpdir(), "openlinq-split-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { ...baseEnv, OPENLINQ_DATA_DIR: dataDir };
    const [server, worker] = [
      track(await spawnOpenlinq(["serve", "--no-worker"], env)),
      track(await spawnOpenlinq(["worker"], env)),
    ];
    await api(server!.baseUrl!, "POST", "/api/partner/v2/webhook_subscriptions", {
      webhook_subscription: { webhook_url: `${receiver.url}/split`, version: 2, events: ["contact.created"] },
    });
    // Four writers at once in the API process while the worker process records attempts.
    await Promise.all(
      Array.from({ length: 4 }, async (_, writer) => {
        for (let i = 0; i < MESSAGES / 4; i += 1) {
          await api(server!.baseUrl!, "POST", "/api/partner/v2/contacts", { contact: { first_name: `w${writer}-${i}` } });
        }
      }),
    );
    await receiver.waitFor(() => receiver.byEvent().size === MESSAGES && receiver.requests.every((r) => r.answeredWith === 200));
    await Promise.all([stopGracefully(server!), stopGracefully(worker!)]);
  });

  const postgres = DIALECTS.includes("postgres");
  it("Postgres: API alone plus two workers; one is killed mid-delivery and restarted", { skip: !postgres && "TEST_DATABASE_URL not set" }, async () => {
    receiver.requests.length = 0;
    // Slower than messages are sent: a backlog builds and attempts are in flight at the kill.
    receiver.answer({ status: 200, delayMs: 1000 });
    const schema = `crash_${randomBytes(6).toString("hex")}`;
    const dataDir = mkdtempSync(join(tmpdir(), "openlinq-crash-"));
    cleanups.push(async () => {
      rmSync(dataDir, { recursive: true, force: true });
      await dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
    });
    const env = {
      ...baseEnv,
      OPENLINQ_DATA_DIR: dataDir,
      OPENLINQ_DATABASE_URL: process.env.TEST_DATABASE_URL!,
      OPENLINQ_DATABASE_SCHEMA: schema,
    };

    const server = track(await spawnOpenlinq(["serve", "--no-worker"], env));
    const [doomed, steady] = await Promise.all([
      spawnOpenlinq(["worker"], env).then(track),
      spawnOpenlinq(["worker"], env).then(track),
    ]);
    // The API keeps taking messages while a worker dies under it.
    const sending = sendMessages(server.baseUrl!, receiver);
    await receiver.waitFor((requests) => requests.length >= 4);
    await killHard(doomed!);
    assertKilledMidDelivery(receiver);
    await sending;
    track(await spawnOpenlinq(["worker"], env));

    const eventIds = await sentEventIds(server.baseUrl!);
    await receiver.waitFor(() => eventIds.every((id) => receiver.byEvent().get(id)?.some((r) => r.answeredWith === 200)));
    assertDeliveredOnce(receiver, eventIds, 4 * CONCURRENCY);
    await Promise.all([stopGracefully(server), stopGracefully(steady!)]);
  });
});
