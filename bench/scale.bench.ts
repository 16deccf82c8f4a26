/**
 * At scale: `npm run bench:scale [-- --messages 1000000 --chats 10000 --pg-messages N --no-postgres --no-sqlite
 *   --duration S --rounds N --send-connections N]`.
 *
 * Generates a store of `--messages` messages spread evenly over `--chats` chats (each chat
 * one recipient, messages alternating between us and them), written in large batches
 * through Kysely on openlinq's own migrated tables, then starts `openlinq serve` on it and
 * measures, against an `openlinq serve` on an empty store measured in the same run:
 *
 *   RSS          the server's resident memory after the loads (VmRSS) and its peak (VmHWM)
 *   page p99     GET /api/partner/v2/chats/{id}/chat_messages?page=N on random chats and
 *                pages, one request at a time
 *   send         POST a message: req/s on the big store against the empty one, interleaved,
 *                median of 3 rounds
 *
 * Goals: RSS < 200 MB, page p99 < 20 ms, send within 10 % of the empty store. Postgres runs
 * the same when it answers at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
 * with `--pg-messages` messages (default: the same as SQLite); `--no-sqlite` runs Postgres
 * alone. Generated stores are removed afterwards. On a loaded machine a Postgres send may take
 * longer than a run lasts with 50 connections (nothing answered, 0 req/s on both stores):
 * fewer `--send-connections` and a longer `--duration` give figures there.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import pg from "pg";
import { sql, type Transaction } from "kysely";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import type { Database, MessageTable } from "../src/storage/schema.ts";
import { spawnOpenlinq, stopGracefully, type Spawned } from "../test/helpers/processes.ts";
import { load, median, type Figures } from "./load.ts";
import { storeSpot } from "./store-spot.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "1000000" },
    chats: { type: "string", default: "10000" },
    "pg-messages": { type: "string" },
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    "no-postgres": { type: "boolean", default: false },
    "no-sqlite": { type: "boolean", default: false },
    "send-connections": { type: "string", default: "50" },
  },
});
const CHATS = Number(values.chats);
const DURATION_S = Number(values.duration);
const ROUNDS = Number(values.rounds);
const SEND_CONNECTIONS = Number(values["send-connections"]);
const TOKEN = "bench-scale-token-0001";
const OUR_NUMBER = "+19998887777";
const AUTH = { "x-linq-integration-token": TOKEN };
const PER_PAGE = 25;
const RSS_GOAL_MB = 200;
const PAGE_P99_GOAL_MS = 20;
const SEND_GOAL = 0.9;
const DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/test";
type Dialect = "sqlite" | "postgres";

/** A generated message: the columns every generated message sets (the rest are null or their default). */
type MessageRow = Pick<
  MessageTable,
  "uuid" | "org_id" | "chat_id" | "chat_handle_id" | "is_from_me" | "text" | "sent_at" | "delivered_at" | "delivery_status" | "is_read" | "read_at" | "created_at"
>;

/** Writes `messages` messages over CHATS chats through openlinq's migrated schema; returns the chat ids and the seconds it took. */
async function generate(config: Record<string, string>, messages: number): Promise<{ chatIds: number[]; seconds: number }> {
  const chatIds: number[] = [];
  const started = performance.now();
  const app = await buildApp(loadConfig({}, { ...config, WORKER: "false", LOG_LEVEL: "silent" }));
  try {
    const db = app.storage.db;
    const orgId = app.bootstrap.organization.id;
    const line = await app.deps.store.read.phoneNumbers.findByNumber(orgId, OUR_NUMBER);
    if (!line) throw new Error("the bench line was not provisioned");
    const perChat = Math.ceil(messages / CHATS);
    const base = Date.now() - messages * 1000;
    const at = (i: number) => new Date(base + i * 1000).toISOString();
    const handleOf = (c: number) => `+1555${String(3000000 + c).padStart(7, "0")}`;
    const BATCH = 500;
    // Postgres: one statement per MESSAGE_BATCH messages, as one array per column (unnest),
    // instead of 500-row inserts with 19 parameters a row. SQLite: Kysely's multi-row insert.
    const postgres = app.storage.dialect === "postgres";
    const MESSAGE_BATCH = postgres ? 5000 : BATCH;
    const insertMessages = async (trx: Transaction<Database>, rows: MessageRow[]) => {
      if (!postgres) return void (await trx.insertInto("messages").values(rows).execute());
      const column = <K extends keyof MessageRow>(key: K) => rows.map((row) => row[key]);
      await sql`insert into messages (uuid, org_id, chat_id, chat_handle_id, is_from_me, text, sent_at, delivered_at,
          delivery_status, is_read, read_at, created_at)
        select * from unnest(${column("uuid")}::text[], ${column("org_id")}::integer[], ${column("chat_id")}::integer[],
          ${column("chat_handle_id")}::integer[], ${column("is_from_me")}::integer[], ${column("text")}::text[],
          ${column("sent_at")}::text[], ${column("delivered_at")}::text[], ${column("delivery_status")}::text[],
          ${column("is_read")}::integer[], ${column("read_at")}::text[], ${column("created_at")}::text[])`.execute(trx);
    };
    for (let from = 0; from < CHATS; from += BATCH) {
      const count = Math.min(BATCH, CHATS - from);
      await db.transaction().execute(async (trx) => {
        const chatRows = Array.from({ length: count }, (_, k) => {
          const c = from + k;
          return {
            uuid: randomUUID(),
            org_id: orgId,
            phone_number_id: line.id,
            display_name: null,
            service: "iMessage",
            is_group: 0,
            participants_key: handleOf(c),
            message_count: perChat,
            last_activity_at: at(c * perChat + perChat - 1),
            created_at: at(c * perChat),
            updated_at: at(c * perChat + perChat - 1),
          };
        });
        const chats = await trx.insertInto("chats").values(chatRows).returning(["id", "participants_key"]).execute();
        chatIds.push(...chats.map((chat) => chat.id));
        const handleRows = chats.flatMap((chat) => [
          { uuid: randomUUID(), chat_id: chat.id, handle: OUR_NUMBER, service: "iMessage", is_me: 1, joined_at: at(0), left_at: null },
          { uuid: randomUUID(), chat_id: chat.id, handle: chat.participants_key, service: "iMessage", is_me: 0, joined_at: at(0), left_at: null },
        ]);
        const handles = await trx.insertInto("chat_handles").values(handleRows).returning(["id", "chat_id", "is_me"]).execute();
        const handleIds = new Map(handles.map((h) => [`${h.chat_id}:${h.is_me}`, h.id]));
        let rows: MessageRow[] = [];
        for (const [k, chat] of chats.entries()) {
          const c = from + k;
          for (let m = 0; m < perChat && c * perChat + m < messages; m++) {
            const i = c * perChat + m;
            const fromMe = m % 2 === 0 ? 1 : 0;
            rows.push({
              uuid: randomUUID(),
              org_id: orgId,
              chat_id: chat.id,
              chat_handle_id: handleIds.get(`${chat.id}:${fromMe}`)!,
              is_from_me: fromMe,
              text: `Message ${m} of chat ${c}: a sentence of ordinary length to make the row realistic.`,
              sent_at: at(i),
              delivered_at: at(i),
              delivery_status: "delivered",
              is_read: 1,
              read_at: at(i),
              created_at: at(i),
            });
            if (rows.length === MESSAGE_BATCH) {
              await insertMessages(trx, rows);
              rows = [];
            }
          }
        }
        if (rows.length > 0) await insertMessages(trx, rows);
      });
    }
  } finally {
    await app.close();
  }
  return { chatIds, seconds: (performance.now() - started) / 1000 };
}

function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...AUTH, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/**
 * Pages of random chats, one request at a time: what one page costs at this size, not how
 * requests queue behind each other (the send figures show throughput). The load generator
 * runs in this thread: it picks each URL.
 */
async function pageLatency(base: string, chatIds: readonly number[], pages: number): Promise<Figures> {
  const result = await autocannon({
    url: base,
    connections: 1,
    duration: DURATION_S * 2,
    headers: AUTH,
    requests: [
      {
        method: "GET",
        setupRequest: (request) => {
          const chatId = chatIds[Math.floor(Math.random() * chatIds.length)]!;
          const page = 1 + Math.floor(Math.random() * pages);
          return { ...request, path: `/api/partner/v2/chats/${chatId}/chat_messages?page=${page}&per_page=${PER_PAGE}` };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

async function benchDialect(dialect: Dialect, databaseUrl: string | undefined, messages: number): Promise<boolean> {
  const big = storeSpot(dialect, databaseUrl, `scale-${dialect}-big`, { token: TOKEN, phoneNumber: OUR_NUMBER });
  const empty = storeSpot(dialect, databaseUrl, `scale-${dialect}-empty`, { token: TOKEN, phoneNumber: OUR_NUMBER });
  const running: Spawned[] = [];
  try {
    const { chatIds, seconds } = await generate(big.config, messages);
    console.log(`\n${dialect}: generated ${messages.toLocaleString("en-US")} messages in ${CHATS.toLocaleString("en-US")} chats in ${seconds.toFixed(0)} s`);
    const bigServer = await spawnOpenlinq(["serve"], big.env);
    running.push(bigServer);
    const emptyServer = await spawnOpenlinq(["serve"], empty.env);
    running.push(emptyServer);

    const pages = Math.max(1, Math.floor(messages / CHATS / PER_PAGE));
    await pageLatency(bigServer.baseUrl!, chatIds, pages);
    const page = await pageLatency(bigServer.baseUrl!, chatIds, pages);

    const sendChat = async (base: string) =>
      (
        await call(base, "POST", "/api/partner/v2/chats", {
          send_from: OUR_NUMBER,
          chat: { phone_numbers: ["+15552009000"] },
          message: { text: "Opening message" },
        })
      ).data.id as number;
    const body = JSON.stringify({ text: "Benchmark message: how is the hot path doing today?" });
    const targets = {
      big: { url: `${bigServer.baseUrl}/api/partner/v2/chats/${await sendChat(bigServer.baseUrl!)}/chat_messages`, method: "POST" as const, body, headers: AUTH },
      empty: { url: `${emptyServer.baseUrl}/api/partner/v2/chats/${await sendChat(emptyServer.baseUrl!)}/chat_messages`, method: "POST" as const, body, headers: AUTH },
    };
    const options = { connections: SEND_CONNECTIONS, seconds: DURATION_S };
    await load(targets.empty, { ...options, seconds: 1 });
    await load(targets.big, { ...options, seconds: 1 });
    const ratios: number[] = [];
    const sends: { big: Figures[]; empty: Figures[] } = { big: [], empty: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (["empty", "big"] as const) : (["big", "empty"] as const);
      const figures: Partial<Record<"big" | "empty", Figures>> = {};
      for (const which of order) figures[which] = await load(targets[which], options);
      sends.big.push(figures.big!);
      sends.empty.push(figures.empty!);
      ratios.push(figures.big!.requestsPerSecond / figures.empty!.requestsPerSecond);
    }
    const memory = memoryOf(bigServer.child.pid!);
    const emptyMemory = memoryOf(emptyServer.child.pid!);
    const sendRatio = median(ratios);
    const failures = page.failures + [...sends.big, ...sends.empty].reduce((sum, f) => sum + f.failures, 0);

    const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
    console.log(
      `RSS after the loads: ${memory.rssMb.toFixed(0)} MB (peak ${memory.peakMb.toFixed(0)} MB; the empty store's server: ${emptyMemory.rssMb.toFixed(0)} MB) — goal < ${RSS_GOAL_MB} MB: ${verdict(memory.peakMb < RSS_GOAL_MB)}`,
    );
    console.log(
      `list-messages page (${PER_PAGE} of ~${Math.round(messages / CHATS)} per chat, random chats and pages, one at a time): ` +
        `${page.requestsPerSecond.toFixed(0)} req/s, p50 ${page.p50} ms, p99 ${page.p99} ms — goal p99 < ${PAGE_P99_GOAL_MS} ms: ${verdict(page.p99 < PAGE_P99_GOAL_MS)}`,
    );
    console.log(
      `send: ${median(sends.big.map((f) => f.requestsPerSecond)).toFixed(0)} req/s on the big store, ` +
        `${median(sends.empty.map((f) => f.requestsPerSecond)).toFixed(0)} on an empty one (p99 ${median(sends.big.map((f) => f.p99))} / ` +
        `${median(sends.empty.map((f) => f.p99))} ms): ${(sendRatio * 100).toFixed(0)}% — goal ≥ ${SEND_GOAL * 100}%: ${verdict(sendRatio >= SEND_GOAL)}`,
    );
    if (failures > 0) console.log(`${failures} requests failed: figures are not valid`);
    return failures === 0;
  } finally {
    await Promise.all(running.map(stopGracefully));
    await big.cleanup();
    await empty.cleanup();
  }
}

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const messages = Number(values.messages);
console.log(
  `openlinq at scale: ${messages.toLocaleString("en-US")} messages in ${CHATS.toLocaleString("en-US")} chats; Node ${process.version}, ` +
    `${availableParallelism()} cores shared with everything else running`,
);
let ok = values["no-sqlite"] ? true : await benchDialect("sqlite", undefined, messages);
const databaseUrl = values["no-postgres"] ? undefined : (process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES);
if (databaseUrl && (await postgresReachable(databaseUrl))) {
  ok = (await benchDialect("postgres", databaseUrl, Number(values["pg-messages"] ?? messages))) && ok;
} else {
  console.log("\n(Postgres not reachable: SQLite only)");
}
if (!ok) process.exitCode = 1;
