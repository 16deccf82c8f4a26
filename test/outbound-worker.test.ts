import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { buildWorker } from "../src/app.ts";
import type { Clock, Transport } from "../src/core/ports.ts";
import { dropPostgresSchema } from "../src/storage/database.ts";
import { createInstantTransport } from "../src/transport/instant.transport.ts";
import { DIALECTS, OUR_NUMBER, startTestApp } from "./helpers/app.ts";
import { createManualClock } from "./helpers/manual-clock.ts";
import { callApi, killHard, spawnOpenlinq, stopGracefully, type Spawned } from "./helpers/processes.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { V2, createChat } from "./helpers/v2.ts";

/**
 * `openlinq worker` carries the outbound queue on its own: with the API node started
 * `--no-worker` and then killed, the simulated network's steps (delivery, read, tapback,
 * reply) still happen, once each, and their webhooks go out (the API node's message.sent
 * too), all from the worker process. A read waits for its delivery, so reads prove the
 * deliveries happened.
 */

const TOKEN = "outbound-worker-token";
const RECIPIENT = "+15557780001";
const MESSAGES = 5;

const baseEnv = {
  OPENLINQ_TOKEN: TOKEN,
  OPENLINQ_PORT: "0",
  OPENLINQ_LOG_LEVEL: "error",
  OPENLINQ_RATE_LIMIT: "0",
  OPENLINQ_PHONE_NUMBERS: OUR_NUMBER,
  OPENLINQ_OUTBOUND_CLAIM_TTL: "1s",
  OPENLINQ_OUTBOUND_POLL_INTERVAL: "100ms",
  OPENLINQ_WEBHOOK_POLL_INTERVAL: "100ms",
  OPENLINQ_WEBHOOK_RETRY_SCHEDULE: "200ms,500ms,1s",
};

interface Envelope {
  event_id: string;
  event_type: string;
  data: Record<string, any>;
}

describe("openlinq worker runs the outbound queue", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    for (const cleanup of cleanups) await cleanup();
  });

  for (const dialect of DIALECTS) {
    it(`${dialect}: with the API node gone, the worker delivers, reads, reacts and replies, each once`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "openlinq-outbound-worker-"));
      const schema = `oworker_${randomBytes(5).toString("hex")}`;
      cleanups.push(async () => {
        rmSync(dataDir, { recursive: true, force: true });
        if (dialect === "postgres") await dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
      });
      const env: Record<string, string> = {
        ...baseEnv,
        OPENLINQ_DATA_DIR: dataDir,
        ...(dialect === "postgres" ? { OPENLINQ_DATABASE_URL: process.env.TEST_DATABASE_URL!, OPENLINQ_DATABASE_SCHEMA: schema } : {}),
      };
      const server: Spawned = await spawnOpenlinq(["serve", "--no-worker"], env);
      let worker: Spawned | undefined;
      try {
        const api = (method: string, path: string, body?: unknown) => callApi(TOKEN, server.baseUrl!, method, path, body);
        await api("POST", "/api/partner/v2/webhook_subscriptions", {
          webhook_subscription: {
            webhook_url: `${receiver.url}/${dialect}`,
            version: 2,
            events: ["message.sent", "message.read", "message.received", "reaction.received"],
          },
        });
        await api("PUT", `/openlinq/v1/handles/${encodeURIComponent(RECIPIENT)}`, {
          latency_ms: 400,
          read_after_ms: 300,
          auto_reaction: { type: "like", delay_ms: 200 },
          auto_reply: { type: "echo", delay_ms: 500 },
        });
        const texts = Array.from({ length: MESSAGES }, (_, i) => `to the worker ${i}`);
        const chat = await api("POST", "/api/partner/v2/chats", {
          send_from: OUR_NUMBER,
          chat: { phone_numbers: [RECIPIENT] },
          message: { text: texts[0] },
        });
        const ids = [String(chat.data.message.id)];
        assert.equal(chat.data.message.delivery_status, "pending", "the recipient's latency keeps it travelling");
        for (const text of texts.slice(1)) {
          const sent = await api("POST", `/api/partner/v2/chats/${chat.data.id}/chat_messages`, { message: { text } });
          ids.push(String(sent.data.id));
        }
        // The API node leaves for good before anything it accepted has arrived.
        await killHard(server);
        worker = await spawnOpenlinq(["worker"], env);

        const events = (): Envelope[] =>
          receiver.requests.filter((r) => r.path === `/${dialect}`).map((r) => JSON.parse(r.body) as Envelope);
        const expected = MESSAGES * 4;
        await receiver.waitFor(() => new Set(events().map((e) => e.event_id)).size >= expected, 60_000);
        // A moment for anything repeated to show up.
        await new Promise((resolve) => setTimeout(resolve, 1500));

        const unique = new Map(events().map((e) => [e.event_id, e]));
        const of = (type: string, match: (data: Record<string, any>) => boolean) =>
          [...unique.values()].filter((e) => e.event_type === type && match(e.data)).length;
        for (const [i, id] of ids.entries()) {
          assert.equal(of("message.sent", (d) => d.id === id), 1, `message.sent of message ${i}`);
          assert.equal(of("message.read", (d) => d.id === id), 1, `message.read of message ${i}`);
          assert.equal(of("reaction.received", (d) => d.chat_message_id === id), 1, `reaction to message ${i}`);
          assert.equal(of("message.received", (d) => d.text === texts[i]), 1, `reply to message ${i}`);
        }
        assert.equal(unique.size, expected, "no other events");
      } finally {
        if (worker) await stopGracefully(worker);
        await killHard(server);
      }
    });
  }
});

/**
 * A send the carrier refused at first is retried by `openlinq worker`, not by the API node
 * that ran `--no-worker`: the node performs only the send its request committed.
 * The carrier (the outside world) is a fake that fails its first call.
 */
for (const dialect of DIALECTS) {
  describe(`openlinq worker retries a send the carrier refused (${dialect})`, () => {
    it("the API node answers pending and leaves the retry; the worker sends it once it is due", async () => {
      const clock = createManualClock(new Date());
      let calls = 0;
      const carrier = (c: Clock): Transport => {
        const instant = createInstantTransport(c);
        return {
          ...instant,
          async send(input) {
            calls += 1;
            if (calls === 1) throw new Error("carrier unavailable");
            return instant.send(input);
          },
        };
      };
      const t = await startTestApp(dialect, {
        config: { WORKER: "false" },
        overrides: { clock, transport: carrier, logger: pino({ level: "silent" }) },
      });
      // Started only once the API node has shown it leaves the retry alone: a worker running
      // meanwhile could take the due retry on its own wall-clock poll.
      let worker: Awaited<ReturnType<typeof buildWorker>> | undefined;
      try {
        const sent = await createChat(t, ["+15557780002"], "Try again later");
        const messageId = sent.message.id;
        assert.equal(sent.message.delivery_status, "pending", "the carrier refused the first try");
        assert.equal(calls, 1);
        const status = async () => (await t.request("GET", `${V2}/chats/${sent.id}/chat_messages/${messageId}`)).body.data.delivery_status;

        clock.advance(60_000); // well past the retry's due time: nothing in the API node moves
        assert.equal(await status(), "pending");
        assert.equal(calls, 1);

        worker = await buildWorker(t.openlinq.config, { clock, transport: carrier, logger: pino({ level: "silent" }) });
        // The worker's own poll may have taken it already; runDue waits for that or does it.
        await worker.outbound.runDue();
        assert.equal(calls, 2, "sent once more, by the worker");
        assert.equal(await status(), "delivered");
      } finally {
        await worker?.close();
        await t.close();
      }
    });
  });
}
