/**
 * Hot-path benchmark: `npm run bench [-- --duration 3 --rounds 3 --connections 50 --no-postgres --no-nodes]`.
 * With Postgres at hand it then compares one node with two on it (bench/nodes.bench.ts),
 * unless --no-nodes.
 *
 * For each store (SQLite; Postgres too when it answers at TEST_DATABASE_URL, by default
 * postgres://postgres@127.0.0.1:5432/test) and each path, openlinq next to its reference
 * measured in the same run, interleaved (reference and openlinq take turns, the order flips
 * every round), the median of `--rounds` rounds:
 *
 *   V2 send        POST /api/partner/v2/chats/{id}/chat_messages
 *   V3 send        POST /api/partner/v3/chats/{chatId}/messages
 *   V2 send+hook   the V2 send with one active webhook subscription, the delivery worker in
 *                  the same process posting every message.sent to a local receiver
 *   list chats     GET /api/partner/v2/chats?phone_number=… (a full first page: 25 chats)
 *   list messages  GET /api/partner/v2/chats/{id}/chat_messages (a full first page: 25 messages)
 *   …, recomputed  the same two pages from a second server on the same store started with
 *                  OPENLINQ_READ_CACHE=false: every page queried and serialized again, what a
 *                  page costs when something was committed since it was last asked
 *
 * Writes are held against the durable-write limit (bench/reference-server.ts: bare Fastify
 * and the raw driver committing the same writes in the same transactions on openlinq's own
 * tables), reads against bare Fastify answering the same bytes. Goals: sends ≥ 60 % of the
 * limit with p99 ≤ 2× the limit's p99; lists ≥ 40 % of bare Fastify.
 *
 * Every server is a process of its own (openlinq as `openlinq serve`, exactly as `npm start`
 * runs it); the load generator runs in a worker thread of this process. On a small machine
 * they all share the cores, which lowers openlinq and its reference alike: the ratio is the
 * figure to compare, not the absolute numbers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import pg from "pg";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { spawnOpenlinq, stopGracefully, type Spawned } from "../test/helpers/processes.ts";
import { load, median, medianFigures, pad, type Figures, type Target } from "./load.ts";
import { benchNodes } from "./nodes.bench.ts";
import { storeSpot, type StoreSpot } from "./store-spot.ts";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    warmup: { type: "string", default: "2" },
    "no-postgres": { type: "boolean", default: false },
    "no-nodes": { type: "boolean", default: false },
    only: { type: "string" },
  },
});
const DURATION_S = Number(values.duration);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);
const WARMUP_S = Number(values.warmup);
const TOKEN = "bench-token-0001";
const OUR_NUMBER = "+19998887777";
const ACCOUNT = { token: TOKEN, phoneNumber: OUR_NUMBER };
const AUTH = { "x-linq-integration-token": TOKEN, authorization: `Bearer ${TOKEN}` };
const LISTED = 25;
const SEND_RATIO_GOAL = 0.6;
const SEND_P99_GOAL = 2;
const LIST_RATIO_GOAL = 0.4;
const DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/test";

type Dialect = "sqlite" | "postgres";
interface PathBench {
  dialect: Dialect;
  name: string;
  kind: "write" | "read";
  ours: Target;
  reference: Target;
  runs: { ours: Figures; reference: Figures }[];
}

/** The webhook receiver: answers 200 at once, counts what arrived. In its own thread. */
const RECEIVER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createServer } = require("node:http");
let received = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => { received += 1; res.writeHead(200, { "content-type": "text/plain" }); res.end("ok"); });
});
parentPort.on("message", () => parentPort.postMessage({ received }));
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
`;

async function startReceiver(): Promise<{ url: string; received(): Promise<number>; close(): Promise<void> }> {
  const worker = new Worker(RECEIVER_SOURCE, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once("message", (m) => resolve(m.port)));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received: () =>
      new Promise((resolve) => {
        worker.once("message", (m) => resolve(m.received));
        worker.postMessage("count");
      }),
    close: async () => void (await worker.terminate()),
  };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...AUTH, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}


/**
 * The limit's database: openlinq migrates and seeds it (organization, line, one chat, one
 * subscription for the delivery rows to point at), then the reference server opens it raw.
 */
async function startReference(
  dialect: Dialect,
  spot: StoreSpot,
  receiverUrl: string,
  sendBytes: number,
): Promise<{ base: string; child: ChildProcess }> {
  const app = await buildApp(loadConfig({}, { ...spot.config, WORKER: "false", LOG_LEVEL: "silent" }));
  const inject = async (method: "POST", url: string, payload: unknown) => {
    const res = await app.http.inject({ method, url, headers: AUTH, payload: payload as object });
    if (res.statusCode >= 300) throw new Error(`${url} answered ${res.statusCode}: ${res.body}`);
    return res.json();
  };
  const chat = await inject("POST", "/api/partner/v2/chats", {
    send_from: OUR_NUMBER,
    chat: { phone_numbers: ["+15552009999"] },
    message: { text: "Opening message" },
  });
  const subscription = await inject("POST", "/api/partner/v2/webhook_subscriptions", {
    webhook_subscription: { webhook_url: receiverUrl, version: 2, events: ["message.sent"], active: false },
  });
  const orgId = app.bootstrap.organization.id;
  const chatId = chat.data.id as number;
  const handles = (await app.deps.store.read.chats.handlesFor([chatId])).get(chatId)!;
  const mine = handles.find((h) => h.isMe)!;
  const eventBytes = 1024;
  await app.close();

  const args = [
    "--import",
    "tsx",
    join(import.meta.dirname, "reference-server.ts"),
    ...(dialect === "sqlite"
      ? ["--sqlite", join(spot.config.DATA_DIR!, "openlinq.db")]
      : ["--postgres", spot.config.DATABASE_URL!, "--schema", spot.config.DATABASE_SCHEMA!]),
    "--org",
    String(orgId),
    "--chat",
    String(chatId),
    "--handle",
    String(mine.id),
    "--subscription",
    String(subscription.webhook_subscription.id),
    "--event-bytes",
    String(eventBytes),
    "--send-bytes",
    String(sendBytes),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`reference server exited with ${code}: ${output}`)));
  });
  return { base: `http://127.0.0.1:${port}`, child };
}

/** The same request sent to another server. */
function onServer(target: Target, from: string, to: string): Target {
  return { ...target, url: to + target.url.slice(from.length) };
}

function sqliteFileOf(spot: StoreSpot): string {
  return join(spot.config.DATA_DIR!, "openlinq.db");
}

async function setUpDialect(dialect: Dialect, databaseUrl: string | undefined, receiverUrl: string) {
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    return await setUpServers(dialect, databaseUrl, receiverUrl, cleanups);
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}

async function setUpServers(
  dialect: Dialect,
  databaseUrl: string | undefined,
  receiverUrl: string,
  cleanups: (() => Promise<unknown>)[],
) {
  const plainSpot = storeSpot(dialect, databaseUrl, `${dialect}-plain`, ACCOUNT);
  const hookSpot = storeSpot(dialect, databaseUrl, `${dialect}-hook`, ACCOUNT);
  const limitSpot = storeSpot(dialect, databaseUrl, `${dialect}-limit`, ACCOUNT);
  cleanups.push(plainSpot.cleanup, hookSpot.cleanup, limitSpot.cleanup);

  const plain: Spawned = await spawnOpenlinq(["serve"], plainSpot.env);
  cleanups.unshift(() => stopGracefully(plain));
  const hooked: Spawned = await spawnOpenlinq(["serve"], hookSpot.env);
  cleanups.unshift(() => stopGracefully(hooked));
  // The same store, read with the list answers recomputed at every request
  // (OPENLINQ_READ_CACHE=false): what a page costs when the store changed since it was asked.
  const recomputing: Spawned = await spawnOpenlinq(["serve"], { ...plainSpot.env, OPENLINQ_READ_CACHE: "false", OPENLINQ_WORKER: "false" });
  cleanups.unshift(() => stopGracefully(recomputing));
  const base = plain.baseUrl!;
  const hookBase = hooked.baseUrl!;

  // A full first page of chats; the first also gets a full first page of messages.
  const chatIds: number[] = [];
  for (let i = 0; i < LISTED; i++) {
    const created = await call(base, "POST", "/api/partner/v2/chats", {
      send_from: OUR_NUMBER,
      chat: { phone_numbers: [`+1555200${String(1000 + i).padStart(4, "0")}`] },
      message: { text: `Opening message ${i}` },
    });
    chatIds.push(created.data.id);
  }
  for (let i = 1; i < LISTED; i++) {
    await call(base, "POST", `/api/partner/v2/chats/${chatIds[0]}/chat_messages`, { text: `Message ${i} of the listed chat` });
  }
  const v3Chat = await call(base, "POST", "/api/partner/v3/chats", {
    from: OUR_NUMBER,
    to: ["+15552003000"],
    message: { parts: [{ type: "text", value: "Opening message" }] },
  });
  const v3ChatId = (v3Chat.chat?.id ?? v3Chat.id) as string;

  await call(hookBase, "POST", "/api/partner/v2/webhook_subscriptions", {
    webhook_subscription: { webhook_url: receiverUrl, version: 2, events: ["message.sent"] },
  });
  const hookChat = await call(hookBase, "POST", "/api/partner/v2/chats", {
    send_from: OUR_NUMBER,
    chat: { phone_numbers: ["+15552004000"] },
    message: { text: "Opening message" },
  });

  const sendBody = JSON.stringify({ text: "Benchmark message: how is the hot path doing today?" });
  const v2Send: Target = { url: `${base}/api/partner/v2/chats/${chatIds[LISTED - 1]}/chat_messages`, method: "POST", body: sendBody, headers: AUTH };
  const v3Send: Target = {
    url: `${base}/api/partner/v3/chats/${v3ChatId}/messages`,
    method: "POST",
    body: JSON.stringify({ message: { parts: [{ type: "text", value: "Benchmark message: how is the hot path doing today?" }] } }),
    headers: AUTH,
  };
  const hookSend: Target = { url: `${hookBase}/api/partner/v2/chats/${hookChat.data.id}/chat_messages`, method: "POST", body: sendBody, headers: AUTH };
  const listChats: Target = { url: `${base}/api/partner/v2/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`, method: "GET", headers: AUTH };
  const listMessages: Target = { url: `${base}/api/partner/v2/chats/${chatIds[0]}/chat_messages`, method: "GET", headers: AUTH };

  const sendSize = JSON.stringify(await call(base, "POST", v2Send.url.slice(base.length), JSON.parse(sendBody))).length;
  const reference = await startReference(dialect, limitSpot, receiverUrl, sendSize);
  cleanups.unshift(async () => {
    reference.child.kill("SIGTERM");
    await new Promise((resolve) => reference.child.once("exit", resolve));
  });
  const chatsPage = await call(base, "GET", listChats.url.slice(base.length));
  const messagesPage = await call(base, "GET", listMessages.url.slice(base.length));
  if (chatsPage.data.length !== LISTED || messagesPage.data.length !== LISTED) {
    throw new Error(`expected full pages of ${LISTED}, got ${chatsPage.data.length} chats and ${messagesPage.data.length} messages`);
  }
  await fetch(`${reference.base}/bytes/chats`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(chatsPage) });
  await fetch(`${reference.base}/bytes/messages`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(messagesPage) });

  const limit: Target = { url: `${reference.base}/send`, method: "POST", body: sendBody };
  const limitWithDelivery: Target = { url: `${reference.base}/send?delivery=1`, method: "POST", body: sendBody };
  const paths: PathBench[] = [
    { dialect, name: "V2 send", kind: "write", ours: v2Send, reference: limit, runs: [] },
    { dialect, name: "V3 send", kind: "write", ours: v3Send, reference: limit, runs: [] },
    { dialect, name: "V2 send, 1 webhook subscription", kind: "write", ours: hookSend, reference: limitWithDelivery, runs: [] },
    { dialect, name: "list chats (25)", kind: "read", ours: listChats, reference: { url: `${reference.base}/bytes/chats`, method: "GET" }, runs: [] },
    { dialect, name: "list messages (25)", kind: "read", ours: listMessages, reference: { url: `${reference.base}/bytes/messages`, method: "GET" }, runs: [] },
    { dialect, name: "list chats, recomputed", kind: "read", ours: onServer(listChats, base, recomputing.baseUrl!), reference: { url: `${reference.base}/bytes/chats`, method: "GET" }, runs: [] },
    { dialect, name: "list messages, recomputed", kind: "read", ours: onServer(listMessages, base, recomputing.baseUrl!), reference: { url: `${reference.base}/bytes/messages`, method: "GET" }, runs: [] },
  ];
  return {
    paths,
    sizes: { send: sendSize, chats: JSON.stringify(chatsPage).length, messages: JSON.stringify(messagesPage).length },
    sqliteFiles: dialect === "sqlite" ? [sqliteFileOf(plainSpot), sqliteFileOf(limitSpot)] : [],
    async close() {
      for (const cleanup of cleanups) await cleanup();
    },
  };
}

function verdict(path: PathBench, ours: Figures, reference: Figures, ratio: number): string {
  if (path.kind === "read") return ratio >= LIST_RATIO_GOAL ? "met" : "MISSED";
  return ratio >= SEND_RATIO_GOAL && ours.p99 <= SEND_P99_GOAL * reference.p99 ? "met" : "MISSED";
}

async function main(): Promise<void> {
  const databaseUrl = values["no-postgres"] ? undefined : (process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES);
  const withPostgres = databaseUrl !== undefined && (await postgresReachable(databaseUrl));
  const dialects: Dialect[] = withPostgres ? ["sqlite", "postgres"] : ["sqlite"];
  const receiver = await startReceiver();
  const setUps = [];
  try {
    for (const dialect of dialects) setUps.push(await setUpDialect(dialect, databaseUrl, receiver.url));
    let paths = setUps.flatMap((s) => s.paths);
    if (values.only) paths = paths.filter((p) => p.name.toLowerCase().includes(values.only!.toLowerCase()));

    console.log(
      `openlinq API benchmark: ${CONNECTIONS} connections, ${DURATION_S} s per run, ${ROUNDS} rounds (medians), ` +
        `${WARMUP_S} s warm-up each; Node ${process.version}; ${availableParallelism()} cores (${cpus()[0]?.model.trim()}), ` +
        `shared by the servers, the load generator${withPostgres ? ", Postgres" : ""} and whatever else runs`,
    );
    if (!withPostgres) console.log(`(Postgres not reachable at ${databaseUrl ?? "—"}: SQLite only)`);
    for (const s of setUps) {
      console.log(`response sizes (${s.paths[0]!.dialect}): send ${s.sizes.send} B, chats page ${s.sizes.chats} B, messages page ${s.sizes.messages} B`);
    }

    const options = { connections: CONNECTIONS, seconds: DURATION_S };
    if (WARMUP_S > 0) {
      for (const path of paths) {
        await load(path.reference, { ...options, seconds: WARMUP_S });
        await load(path.ours, { ...options, seconds: WARMUP_S });
      }
    }
    const deliveredBefore = await receiver.received();
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of paths) {
        // Take turns, and flip who goes first each round, so drift in the machine's load hits both.
        if (round % 2 === 0) {
          const reference = await load(path.reference, options);
          const ours = await load(path.ours, options);
          path.runs.push({ ours, reference });
        } else {
          const ours = await load(path.ours, options);
          const reference = await load(path.reference, options);
          path.runs.push({ ours, reference });
        }
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }

    console.log(
      `\n${pad("path", -34)}${pad("store", -9)}${pad("req/s", 8)}${pad("p50", 6)}${pad("p99", 6)}` +
        `${pad("ref req/s", 11)}${pad("ref p50", 8)}${pad("ref p99", 8)}${pad("ratio", 7)}${pad("p99×", 6)}  goal`,
    );
    let failures = 0;
    let missed = 0;
    for (const path of paths) {
      const ours = medianFigures(path.runs.map((r) => r.ours));
      const reference = medianFigures(path.runs.map((r) => r.reference));
      const ratio = median(path.runs.map((r) => r.ours.requestsPerSecond / r.reference.requestsPerSecond));
      const result = verdict(path, ours, reference, ratio);
      if (result !== "met") missed += 1;
      failures += ours.failures + reference.failures;
      console.log(
        `${pad(path.name, -34)}${pad(path.dialect, -9)}${pad(ours.requestsPerSecond.toFixed(0), 8)}${pad(ours.p50.toFixed(0), 6)}` +
          `${pad(ours.p99.toFixed(0), 6)}${pad(reference.requestsPerSecond.toFixed(0), 11)}${pad(reference.p50.toFixed(0), 8)}` +
          `${pad(reference.p99.toFixed(0), 8)}${pad(`${(ratio * 100).toFixed(0)}%`, 7)}${pad((ours.p99 / reference.p99).toFixed(1), 6)}  ${result}`,
      );
    }
    console.log(
      `\nreference: writes — the durable-write limit (bench/reference-server.ts: the same writes in the same transactions, ` +
        `raw driver, bare Fastify); reads — bare Fastify answering the same bytes. Latencies in ms.` +
        `\ngoals: sends ≥ ${SEND_RATIO_GOAL * 100}% of the limit and p99 ≤ ${SEND_P99_GOAL}× its p99; lists ≥ ${LIST_RATIO_GOAL * 100}% of bare Fastify`,
    );
    const hookPaths = paths.filter((p) => p.name.includes("webhook"));
    if (hookPaths.length > 0) {
      // Give the worker a moment to finish the last deliveries before counting.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const sent = hookPaths.reduce((sum, p) => sum + p.runs.reduce((s, r) => s + r.ours.requests, 0), 0);
      console.log(`webhook deliveries received during the rounds: ${(await receiver.received()) - deliveredBefore} for ${sent} sends`);
    }
    console.log(`${missed === 0 ? "all goals met" : `${missed} of ${paths.length} goals missed`}`);
    if (failures > 0) {
      console.log(`${failures} requests failed (errors, timeouts or non-2xx): figures are not valid`);
      process.exitCode = 1;
    }
  } finally {
    for (const s of setUps) await s.close();
    await receiver.close();
  }
  if (withPostgres && !values["no-nodes"]) {
    console.log("\none node against two on one Postgres (bench/nodes.bench.ts):");
    const ok = await benchNodes({ databaseUrl: databaseUrl!, seconds: DURATION_S, connections: CONNECTIONS, warmup: WARMUP_S });
    if (!ok) process.exitCode = 1;
  }
}

await main();
