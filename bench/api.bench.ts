/**
 * Hot-path benchmark: sending a message and listing chats through the real product
 * (buildApp on SQLite, simulator transport, rate limit off, logs silent), against a bare
 * Fastify server measured in the same run that answers a JSON body of the same size — the
 * ceiling for any Fastify route on this machine.
 *
 * Usage: npm run bench [-- --duration 10 --connections 50]
 * With TEST_DATABASE_URL set it then compares one node with two on Postgres (nodes.bench.ts).
 *
 * The load generator runs in a worker thread (autocannon `workers: 1`) so it does not
 * share the server's event loop; on a 2-core machine they still share the CPU, which
 * lowers both figures alike. Target: send ≥ 40 % of bare Fastify and p99 < 20 ms.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import Fastify, { type FastifyInstance } from "fastify";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { benchNodes } from "./nodes.bench.ts";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    warmup: { type: "string", default: "3" },
  },
});
const DURATION_S = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const WARMUP_S = Number(values.warmup);
const TOKEN = "bench-token-0001";
const OUR_NUMBER = "+19998887777";
/** Chats present while listing, so GET /chats answers a full first page (25), as a busy account would. */
const CHATS_LISTED = 25;
const SEND_TARGET_RATIO = 0.4;
const P99_TARGET_MS = 20;

interface Figures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

async function load(options: {
  url: string;
  method: "GET" | "POST";
  body?: string;
  seconds: number;
}): Promise<Figures> {
  const result = await autocannon({
    url: options.url,
    method: options.method,
    connections: CONNECTIONS,
    duration: options.seconds,
    workers: 1,
    headers: {
      "x-linq-integration-token": TOKEN,
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

/** Warm-up (JIT, SQLite page cache) first; only the second run is reported. */
async function measure(url: string, method: "GET" | "POST", body?: string): Promise<Figures> {
  if (WARMUP_S > 0) await load({ url, method, seconds: WARMUP_S, ...(body !== undefined ? { body } : {}) });
  return load({ url, method, seconds: DURATION_S, ...(body !== undefined ? { body } : {}) });
}

/** The baseline: parses the same JSON request, answers a fixed JSON body of `bytes` bytes. */
async function startBareFastify(sizes: { send: number; list: number }): Promise<{ app: FastifyInstance; base: string }> {
  const bodyOfSize = (bytes: number) => {
    const skeleton = JSON.stringify({ data: { text: "" } });
    return { data: { text: "x".repeat(Math.max(0, bytes - skeleton.length)) } };
  };
  const sendBody = bodyOfSize(sizes.send);
  const listBody = bodyOfSize(sizes.list);
  const app = Fastify({ logger: false });
  app.post("/send", async (_request, reply) => reply.code(201).send(sendBody));
  app.get("/list", async () => listBody);
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, base: address };
}

function formatRow(label: string, ours: Figures, bare: Figures): string {
  const ratio = ours.requestsPerSecond / bare.requestsPerSecond;
  return [
    label.padEnd(44),
    ours.requestsPerSecond.toFixed(0).padStart(8),
    ours.p50.toFixed(1).padStart(7),
    ours.p99.toFixed(1).padStart(7),
    bare.requestsPerSecond.toFixed(0).padStart(11),
    bare.p99.toFixed(1).padStart(9),
    `${(ratio * 100).toFixed(0)}%`.padStart(7),
  ].join("");
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "openlinq-bench-"));
  const config = loadConfig(
    {},
    { DATA_DIR: dataDir, TOKEN, PHONE_NUMBERS: OUR_NUMBER, RATE_LIMIT: "0", LOG_LEVEL: "silent", PORT: "0" },
  );
  const openlinq = await buildApp(config);
  await openlinq.listen();
  const api = `${openlinq.baseUrl()}/api/partner/v2`;
  const headers = { "x-linq-integration-token": TOKEN, "content-type": "application/json" };

  let chatId = 0;
  for (let i = 0; i < CHATS_LISTED; i++) {
    const response = await fetch(`${api}/chats`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        send_from: OUR_NUMBER,
        chat: { phone_numbers: [`+1555200${String(1000 + i).padStart(4, "0")}`] },
        message: { text: "Opening message" },
      }),
    });
    if (response.status !== 200) throw new Error(`creating chat ${i} answered ${response.status}: ${await response.text()}`);
    chatId = ((await response.json()) as { data: { id: number } }).data.id;
  }

  const sendUrl = `${api}/chats/${chatId}/chat_messages`;
  const sendBody = JSON.stringify({ text: "Benchmark message: how is the hot path doing today?" });
  const listUrl = `${api}/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`;
  const sample = await fetch(sendUrl, { method: "POST", headers, body: sendBody });
  const sendSize = (await sample.text()).length;
  const listSize = (await (await fetch(listUrl, { headers })).text()).length;
  const bare = await startBareFastify({ send: sendSize, list: listSize });

  console.log(
    `openlinq API benchmark: ${CONNECTIONS} connections, ${DURATION_S} s per run (after ${WARMUP_S} s warm-up), ` +
      `Node ${process.version}, SQLite, simulator transport`,
  );
  console.log(`response sizes: send ${sendSize} B, list ${listSize} B (bare Fastify answers the same sizes)\n`);

  const bareSend = await measure(`${bare.base}/send`, "POST", sendBody);
  const oursSend = await measure(sendUrl, "POST", sendBody);
  const bareList = await measure(`${bare.base}/list`, "GET");
  const oursList = await measure(listUrl, "GET");

  console.log(
    `${"endpoint".padEnd(44)}${"req/s".padStart(8)}${"p50 ms".padStart(7)}${"p99 ms".padStart(7)}` +
      `${"bare req/s".padStart(11)}${"bare p99".padStart(9)}${"ratio".padStart(7)}`,
  );
  console.log(formatRow("POST /api/partner/v2/chats/{id}/chat_messages", oursSend, bareSend));
  console.log(formatRow("GET  /api/partner/v2/chats?phone_number=…", oursList, bareList));

  const failures = oursSend.failures + oursList.failures + bareSend.failures + bareList.failures;
  const sendRatio = oursSend.requestsPerSecond / bareSend.requestsPerSecond;
  const met = sendRatio >= SEND_TARGET_RATIO && oursSend.p99 < P99_TARGET_MS;
  console.log(
    `\ntarget (send ≥ ${SEND_TARGET_RATIO * 100}% of bare Fastify, p99 < ${P99_TARGET_MS} ms): ` +
      `${met ? "met" : "MISSED"} (${(sendRatio * 100).toFixed(0)}%, p99 ${oursSend.p99.toFixed(1)} ms)`,
  );
  if (failures > 0) console.log(`${failures} requests failed (errors, timeouts or non-2xx): figures are not valid`);

  await bare.app.close();
  await openlinq.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (failures > 0) process.exitCode = 1;

  // With Postgres at hand: one node against two (bench/nodes.bench.ts).
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (databaseUrl) {
    const ok = await benchNodes({ databaseUrl, seconds: DURATION_S, connections: CONNECTIONS, warmup: WARMUP_S });
    if (!ok) process.exitCode = 1;
  } else {
    console.log("\n(set TEST_DATABASE_URL to also compare one node with two on Postgres)");
  }
}

await main();
