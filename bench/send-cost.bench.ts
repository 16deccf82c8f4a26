/**
 * What one send costs, in figures the machine's load does not move:
 * `npm run bench:send-cost [-- --sends 300 --postgres --trace]`.
 *
 * Builds openlinq in this process (buildApp, worker on, logs quiet) on a fresh store, sends
 * `--sends` V2 and V3 messages one at a time through Fastify's inject (no sockets), and
 * prints per send: the SQL statements the driver executed (begin/commit included), of them
 * the transactions, and the CPU time of this process (user + system). With `--trace`, the
 * statements of one V2 send, in order. With `--hook`, one active webhook subscription (its
 * deliveries queue in the send's transaction; the delivery worker runs as in `serve`).
 *
 * Statements are counted by wrapping the drivers' execute functions in statement-counter.ts (better-sqlite3's
 * Statement methods, pg's Client.query), so nothing in src/ carries instrumentation.
 */
import { parseArgs } from "node:util";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { storeSpot } from "./store-spot.ts";
import { counter } from "./statement-counter.ts";

const { values } = parseArgs({
  options: {
    sends: { type: "string", default: "300" },
    postgres: { type: "boolean", default: false },
    trace: { type: "boolean", default: false },
    hook: { type: "boolean", default: false },
  },
});
const SENDS = Number(values.sends);
const TOKEN = "bench-token-0001";
const OUR_NUMBER = "+19998887777";
const AUTH = { "x-linq-integration-token": TOKEN, authorization: `Bearer ${TOKEN}` };


const databaseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const spot = storeSpot(values.postgres ? "postgres" : "sqlite", databaseUrl, "send-cost", { token: TOKEN, phoneNumber: OUR_NUMBER });
const app = await buildApp(loadConfig({}, { ...spot.config, LOG_LEVEL: "silent" }));

async function inject(method: "POST" | "GET", url: string, payload?: unknown): Promise<any> {
  const res = await app.http.inject({ method, url, headers: AUTH, ...(payload !== undefined ? { payload: payload as object } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

if (values.hook) {
  await inject("POST", "/api/partner/v2/webhook_subscriptions", {
    // Nothing listens there: deliveries fail and retry later, which is all the send path sees.
    webhook_subscription: { webhook_url: "http://127.0.0.1:9/hook", version: 2, events: ["message.sent"] },
  });
}
const v2Chat = await inject("POST", "/api/partner/v2/chats", {
  send_from: OUR_NUMBER,
  chat: { phone_numbers: ["+15552009999"] },
  message: { text: "Opening message" },
});
const v3Chat = await inject("POST", "/api/partner/v3/chats", {
  from: OUR_NUMBER,
  to: ["+15552003000"],
  message: { parts: [{ type: "text", value: "Opening message" }] },
});
const v3ChatId = (v3Chat.chat?.id ?? v3Chat.id) as string;
const v2Send = () => inject("POST", `/api/partner/v2/chats/${v2Chat.data.id}/chat_messages`, { text: "Benchmark message: how is the hot path doing today?" });
const v3Send = () =>
  inject("POST", `/api/partner/v3/chats/${v3ChatId}/messages`, {
    message: { parts: [{ type: "text", value: "Benchmark message: how is the hot path doing today?" }] },
  });

const isTransaction = (text: string) => /^\s*begin\b/i.test(text);

async function measure(name: string, send: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 50; i++) await send(); // warm-up: JIT, statement caches, lazy schemas
  counter.executed.length = 0;
  counter.driverNs.clear();
  counter.counting = true;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < SENDS; i++) await send();
  const wallNs = Number(process.hrtime.bigint() - started);
  const used = process.cpuUsage(cpu);
  counter.counting = false;
  const statements = counter.executed.length / SENDS;
  const transactions = counter.executed.filter(isTransaction).length / SENDS;
  const cpuMs = (used.user + used.system) / 1000 / SENDS;
  console.log(
    `${name.padEnd(8)} ${statements.toFixed(1).padStart(6)} statements/send  ${transactions.toFixed(1).padStart(4)} transactions/send  ` +
      `${cpuMs.toFixed(3)} ms CPU/send  ${(wallNs / 1e6 / SENDS).toFixed(3)} ms wall/send`,
  );
  if (values.trace && counter.driverNs.size > 0) {
    const inDriver = [...counter.driverNs.values()].reduce((sum, ns) => sum + ns, 0);
    console.log(`         of it CPU inside better-sqlite3: ${(inDriver / 1e6 / SENDS).toFixed(3)} ms/send; the costliest statements (µs per send):`);
    for (const [text, ns] of [...counter.driverNs].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
      console.log(`  ${(ns / 1e3 / SENDS).toFixed(1).padStart(7)}  ${text.replace(/\s+/g, " ").slice(0, 140)}`);
    }
  }
}

try {
  console.log(`send cost on ${values.postgres ? "Postgres" : "SQLite"}${values.hook ? ", 1 webhook subscription" : ""}: ${SENDS} sends each, one at a time, in process`);
  await measure("V2 send", v2Send);
  await measure("V3 send", v3Send);
  if (values.trace) {
    counter.executed.length = 0;
    counter.counting = true;
    await v2Send();
    counter.counting = false;
    console.log("\none V2 send, in order:");
    for (const text of counter.executed) console.log(`  ${text.replace(/\s+/g, " ").slice(0, 160)}`);
  }
} finally {
  await app.close();
  await spot.cleanup();
}
