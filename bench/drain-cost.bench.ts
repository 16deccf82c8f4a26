/**
 * What one delivered event costs the delivery worker, in figures the machine's load does not
 * move: `npm run bench:drain-cost [-- --events 1500 --rounds 5 --postgres --against DIR --profile FILE]`.
 *
 * Queues `--events` events for one subscription, then lets a fresh worker drain them (worker
 * concurrency 32, as `bench:webhooks`) against a receiver in another process, so the CPU time
 * of this process (user + system) is the worker's alone. Per delivered event it prints that
 * CPU time, the SQL statements the driver executed, and on SQLite the WAL frames (pages)
 * written. `--against DIR` loads a second checkout's sources (another worktree, say the
 * code before a change) into the same process and alternates the two round by round, so
 * both see the same load. `--profile FILE` writes a CPU profile of the drains alone.
 *
 * Statements are counted by wrapping the drivers here; WAL frames are read with
 * `wal_checkpoint` around each drain (the worker's connection checkpoints once, at the end
 * of the drain and inside its CPU time, instead of every 1,000 pages, so no automatic
 * checkpoint resets the count), so nothing in src/ carries instrumentation.
 */
import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { storeSpot } from "./store-spot.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1500" },
    rounds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "32" },
    postgres: { type: "boolean", default: false },
    against: { type: "string" },
    profile: { type: "string" },
    receiver: { type: "boolean", default: false },
    trace: { type: "boolean", default: false },
  },
});

/** Time inside better-sqlite3 per statement text (--trace). */
const traced = new Map<string, { count: number; ns: number }>();
/** Set during the measured drains only, so the warm-up drains stay out of the trace. */
let tracing = false;

if (values.receiver) {
  // The receiver process: answers 200 at once, counts requests, tells the parent on request.
  const { createServer } = await import("node:http");
  let total = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      total += 1;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  server.keepAliveTimeout = 60_000;
  process.on("message", () => process.send!({ total }));
  process.on("disconnect", () => process.exit(0));
  server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as { port: number }).port }));
} else {
  await main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

interface Variant {
  label: string;
  app: any;
  deps: any;
  cleanup: () => Promise<void>;
  /** The SQLite connection of the app (seen through its first statement). */
  sqlite: any;
  statements: number;
  runs: { cpuMicros: number; statements: number; walFrames: number | null; wallMs: number }[];
}

async function main(): Promise<void> {
  const EVENTS = Number(values.events);
  const ROUNDS = Number(values.rounds);
  const here = resolve(fileURLToPath(import.meta.url), "../..");
  const roots = [{ label: "this", root: here }, ...(values.against ? [{ label: "against", root: resolve(values.against) }] : [])];

  const receiver = fork(fileURLToPath(import.meta.url), ["--receiver"], { execArgv: ["--import", "tsx"] });
  const port = await new Promise<number>((ok) => receiver.once("message", (m: any) => ok(m.port)));
  const receivedTotal = () =>
    new Promise<number>((ok) => {
      receiver.once("message", (m: any) => ok(m.total));
      receiver.send("count");
    });

  const databaseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const variants: Variant[] = [];
  let counting: Variant | undefined;
  for (const { label, root } of roots) {
    const require = createRequire(`${root}/package.json`);
    const variant = { label: `${label} (${root})`, statements: 0, runs: [], sqlite: undefined } as unknown as Variant;
    // Each checkout loads its own copy of the drivers: wrap that copy.
    const SQLite = require("better-sqlite3");
    const probe = new SQLite(":memory:");
    const proto = Object.getPrototypeOf(probe.prepare("select 1"));
    probe.close();
    for (const method of ["run", "get", "all", "iterate"] as const) {
      const original = proto[method];
      proto[method] = function (this: { database: unknown; source: string }, ...args: unknown[]) {
        if (counting === variant) variant.statements += 1;
        if (!variant.sqlite && counting === variant) variant.sqlite = this.database;
        if (!tracing || counting !== variant) return original.apply(this, args);
        const started = process.hrtime.bigint();
        try {
          return original.apply(this, args);
        } finally {
          const key = this.source.replace(/\(\?(, \?)*\)/g, "(?…)").replace(/\(\?(, \?)*\)(, \(\?…\))*/g, "(…)").slice(0, 160);
          const entry = (traced.get(key) ?? traced.set(key, { count: 0, ns: 0 }).get(key))!;
          entry.count += 1;
          entry.ns += Number(process.hrtime.bigint() - started);
        }
      };
    }
    const pg = require("pg");
    const originalQuery = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
      if (counting === variant) variant.statements += 1;
      return originalQuery.apply(this, args);
    };
    const { buildApp } = await import(pathToFileURL(`${root}/src/app.ts`).href);
    const { loadConfig } = await import(pathToFileURL(`${root}/src/config/config.ts`).href);
    const { createContact } = await import(pathToFileURL(`${root}/src/core/contacts/contacts.service.ts`).href);
    const { createSubscription } = await import(pathToFileURL(`${root}/src/core/webhooks/subscriptions.service.ts`).href);
    const spot = storeSpot(values.postgres ? "postgres" : "sqlite", databaseUrl, `drain-${variants.length}`, {
      token: "bench-token-0001",
      phoneNumber: "+19998887777",
    });
    const app = await buildApp(
      loadConfig({}, { ...spot.config, LOG_LEVEL: "silent", WORKER: "false", WEBHOOK_CONCURRENCY: values.concurrency }),
    );
    await createSubscription(app.deps, 1, { webhook_url: `http://127.0.0.1:${port}/hook`, version: 2, events: ["contact.created"] });
    variant.app = app;
    variant.deps = { createContact };
    variant.cleanup = async () => {
      await app.close();
      await spot.cleanup();
    };
    variants.push(variant);
  }

  const session = values.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
  }

  async function drain(variant: Variant, count: number, measure: boolean): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await variant.deps.createContact(variant.app.deps, 1, { first_name: `Bench ${i}`, phone_number: "+15550001234" });
    }
    if (measure && variant.sqlite) variant.sqlite.pragma("wal_checkpoint(TRUNCATE)");
    const before = await receivedTotal();
    const worker = variant.app.newDeliveryWorker();
    counting = variant;
    tracing = measure && values.trace;
    const statementsBefore = variant.statements;
    if (session && measure) await session.post("Profiler.start");
    const started = performance.now();
    const cpu = process.cpuUsage();
    if (measure && variant.sqlite) variant.sqlite.pragma("wal_autocheckpoint = 0");
    await worker.runDue();
    // The checkpoint the drain's frames call for, counted in its CPU time as the automatic
    // ones would be: it copies every frame written into the database file.
    let walFrames: number | null = null;
    if (measure && variant.sqlite) walFrames = (variant.sqlite.pragma("wal_checkpoint(PASSIVE)") as { log: number }[])[0]!.log;
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - started;
    if (session && measure) {
      const { profile } = await session.post("Profiler.stop");
      profiles.push(profile);
    }
    counting = undefined;
    tracing = false;
    if (measure && variant.sqlite) {
      variant.sqlite.pragma("wal_checkpoint(TRUNCATE)");
      variant.sqlite.pragma("wal_autocheckpoint = 1000");
    }
    await worker.close();
    const delivered = (await receivedTotal()) - before;
    if (delivered < count) throw new Error(`${variant.label}: ${delivered} of ${count} delivered`);
    if (measure) {
      variant.runs.push({
        cpuMicros: (used.user + used.system) / count,
        statements: (variant.statements - statementsBefore) / count,
        walFrames: walFrames === null ? null : walFrames / count,
        wallMs,
      });
    }
  }
  const profiles: any[] = [];

  try {
    // JIT, connections, caches: the first drains of a process cost up to twice the later ones.
    for (let warm = 0; warm < 3; warm += 1) for (const variant of variants) await drain(variant, 1000, false);
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternate which goes first, so neither always follows the other's garbage.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) await drain(variant, EVENTS, true);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`${values.postgres ? "postgres" : "sqlite"}: ${EVENTS} events a round, ${ROUNDS} rounds, worker concurrency ${values.concurrency}; medians per delivered event`);
    for (const variant of variants) {
      const frames = variant.runs.map((r) => r.walFrames).filter((f): f is number => f !== null);
      console.log(
        `  ${variant.label}\n    CPU ${median(variant.runs.map((r) => r.cpuMicros)).toFixed(0)} µs, least ${Math.min(...variant.runs.map((r) => r.cpuMicros)).toFixed(0)} µs (runs ${variant.runs.map((r) => r.cpuMicros.toFixed(0)).join(", ")})` +
          `, statements ${median(variant.runs.map((r) => r.statements)).toFixed(3)}` +
          (frames.length > 0 ? `, WAL frames ${median(frames).toFixed(2)} (runs ${frames.map((f) => f.toFixed(2)).join(", ")})` : "") +
          `, ${Math.round(EVENTS / (median(variant.runs.map((r) => r.wallMs)) / 1000))} events/s wall`,
      );
    }
    if (values.trace) {
      const drained = EVENTS * ROUNDS * variants.length;
      console.log("  time inside better-sqlite3 per delivered event, by statement:");
      for (const [text, { count, ns }] of [...traced].sort((a, b) => b[1].ns - a[1].ns)) {
        console.log(`    ${(ns / 1000 / drained).toFixed(1).padStart(6)} µs  ${(count / drained).toFixed(3)}×  ${text}`);
      }
    }
    if (session && values.profile) {
      // One profile of all measured drains: their samples joined, times shifted end to end.
      const [first, ...rest] = profiles;
      for (const next of rest) {
        const offset = first.nodes.reduce((m: number, n: any) => Math.max(m, n.id), 0);
        for (const node of next.nodes) {
          node.id += offset;
          if (node.children) node.children = node.children.map((c: number) => c + offset);
        }
        first.nodes.push(...next.nodes);
        first.samples.push(...next.samples.map((s: number) => s + offset));
        first.timeDeltas.push(...next.timeDeltas);
        first.endTime += next.endTime - next.startTime;
      }
      writeFileSync(values.profile, JSON.stringify(first));
      console.log(`  profile: ${values.profile}`);
    }
  } finally {
    for (const variant of variants) await variant.cleanup();
    receiver.kill();
  }
}
