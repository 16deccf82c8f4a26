/**
 * One node against two: `openlinq serve` processes on one Postgres schema, the same send
 * load (POST a message) spread over however many nodes run. Each node is a real process
 * (its own event loop), as in production; the load generator runs in a worker thread.
 *
 * Usage: npm run bench:nodes [-- --duration 10 --connections 50]
 * (`npm run bench` runs it too when TEST_DATABASE_URL is set.)
 * Needs TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test); uses a schema of
 * its own and drops it afterwards.
 *
 * Read the figures with the machine in mind: the nodes, Postgres and the load generator
 * share its cores. On two cores a second node has no core of its own, so two nodes mostly
 * measure the cost of sharing; the gain shows where each node (and Postgres) gets its own.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { dropPostgresSchema } from "../src/storage/database.ts";
import { spawnOpenlinq, stopGracefully, type Spawned } from "../test/helpers/processes.ts";

const TOKEN = "bench-nodes-token-0001";
const OUR_NUMBER = "+19998887777";

interface Figures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

async function load(urls: string[], body: string, connections: number, seconds: number): Promise<Figures> {
  const result = await autocannon({
    // autocannon spreads its connections over several URLs round-robin; its types say one.
    url: urls as unknown as string,
    method: "POST",
    connections,
    duration: seconds,
    workers: 1,
    headers: { "x-linq-integration-token": TOKEN, "content-type": "application/json" },
    body,
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

export async function benchNodes(options: { databaseUrl: string; seconds: number; connections: number; warmup: number }): Promise<boolean> {
  const schema = `bench_nodes_${randomBytes(4).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "openlinq-bench-nodes-"));
  const env = {
    OPENLINQ_TOKEN: TOKEN,
    OPENLINQ_PORT: "0",
    OPENLINQ_LOG_LEVEL: "warn",
    OPENLINQ_RATE_LIMIT: "0",
    OPENLINQ_PHONE_NUMBERS: OUR_NUMBER,
    OPENLINQ_DATA_DIR: dataDir,
    OPENLINQ_DATABASE_URL: options.databaseUrl,
    OPENLINQ_DATABASE_SCHEMA: schema,
  };
  const nodes: Spawned[] = [];
  try {
    nodes.push(await spawnOpenlinq(["serve"], env));
    const first = nodes[0]!.baseUrl!;
    const created = await fetch(`${first}/api/partner/v2/chats`, {
      method: "POST",
      headers: { "x-linq-integration-token": TOKEN, "content-type": "application/json" },
      body: JSON.stringify({ send_from: OUR_NUMBER, chat: { phone_numbers: ["+15552001000"] }, message: { text: "Opening message" } }),
    });
    if (!created.ok) throw new Error(`creating the chat answered ${created.status}: ${await created.text()}`);
    const chatId = ((await created.json()) as { data: { id: number } }).data.id;
    const path = `/api/partner/v2/chats/${chatId}/chat_messages`;
    const body = JSON.stringify({ text: "Benchmark message: how is the hot path doing today?" });

    const run = async () => {
      const urls = nodes.map((node) => `${node.baseUrl}${path}`);
      if (options.warmup > 0) await load(urls, body, options.connections, options.warmup);
      return load(urls, body, options.connections, options.seconds);
    };
    const one = await run();
    nodes.push(await spawnOpenlinq(["serve"], env));
    const two = await run();

    console.log(
      `\nseveral nodes (Postgres): POST a message, ${options.connections} connections spread over the nodes, ` +
        `${options.seconds} s per run after ${options.warmup} s warm-up; ${availableParallelism()} cores shared by the ` +
        "nodes, Postgres and the load generator",
    );
    console.log(`${"nodes".padEnd(10)}${"req/s".padStart(8)}${"p50 ms".padStart(8)}${"p99 ms".padStart(8)}${"vs one".padStart(8)}`);
    for (const [label, figures] of [["one", one], ["two", two]] as const) {
      console.log(
        `${label.padEnd(10)}${figures.requestsPerSecond.toFixed(0).padStart(8)}${figures.p50.toFixed(1).padStart(8)}` +
          `${figures.p99.toFixed(1).padStart(8)}${`${((figures.requestsPerSecond / one.requestsPerSecond) * 100).toFixed(0)}%`.padStart(8)}`,
      );
    }
    if (availableParallelism() <= 2) {
      console.log(
        "two cores: every process competes for them, so two nodes cannot beat one by much here; " +
          "this shows that nodes share one database correctly and what sharing costs, not how far they scale",
      );
    }
    const failures = one.failures + two.failures;
    if (failures > 0) console.log(`${failures} requests failed (errors, timeouts or non-2xx): figures are not valid`);
    return failures === 0;
  } finally {
    await Promise.all(nodes.map(stopGracefully));
    rmSync(dataDir, { recursive: true, force: true });
    await dropPostgresSchema(options.databaseUrl, schema);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "10" },
      connections: { type: "string", default: "50" },
      warmup: { type: "string", default: "3" },
    },
  });
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) {
    console.error("bench:nodes needs TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)");
    process.exit(2);
  }
  const ok = await benchNodes({
    databaseUrl,
    seconds: Number(values.duration),
    connections: Number(values.connections),
    warmup: Number(values.warmup),
  });
  if (!ok) process.exitCode = 1;
}
