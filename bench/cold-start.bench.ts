/**
 * Cold start: `npm run bench:cold-start [-- --runs 5]`. Time from spawning `openlinq serve`
 * (what `npm start` runs, without npm's own start-up) to the first answered API request, on
 * a warm disk: the data directory exists (an earlier start migrated it) and the files are in
 * the page cache, so this is the work the process does, not the disk. Also the first start
 * on an empty data directory (migrations and seeding included). Goal: under 1 s.
 *
 * bin/openlinq.js runs the build in dist/server (`npm run build:server`, also run at install)
 * when it is current, else the TypeScript sources through tsx; the sources through tsx are
 * measured alongside, interleaved, for comparison.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { currentServerBuild } from "../bin/server-build.js";
import { median } from "./load.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Number(values.runs);
const GOAL_MS = 1000;
const TOKEN = "bench-cold-start-token";
const BIN = join(import.meta.dirname, "..", "bin", "openlinq.js");
const MAIN_SOURCE = pathToFileURL(join(import.meta.dirname, "..", "src", "cli", "main.ts")).href;
/** How the server is started: bin/openlinq.js as `npm start` runs it, or the sources through tsx (as before the build). */
const LAUNCHERS = {
  "bin/openlinq.js": [BIN, "serve"],
  "sources via tsx": ["--import", "tsx", "--input-type=module", "-e", `const { main } = await import(${JSON.stringify(MAIN_SOURCE)}); await main(["serve"]);`],
} as const;
type Launcher = keyof typeof LAUNCHERS;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Spawns the server and polls until an API request answers 200; returns the milliseconds and what ran. */
/** CPU time (user + system) a process used so far, in ms; Linux only (undefined elsewhere). */
function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

interface Start {
  ms: number;
  cpuMs: number | undefined;
}

async function startOnce(dataDir: string, launcher: Launcher): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...LAUNCHERS[launcher]], {
    env: {
      ...process.env,
      OPENLINQ_DATA_DIR: dataDir,
      OPENLINQ_PORT: String(port),
      OPENLINQ_HOST: "127.0.0.1",
      OPENLINQ_TOKEN: TOKEN,
      OPENLINQ_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`openlinq exited with ${child.exitCode}: ${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/partner/v2/phone_numbers`, {
          headers: { "x-linq-integration-token": TOKEN },
        });
        if (res.status === 200) return { ms: performance.now() - started, cpuMs: cpuMsOf(child.pid!) };
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (performance.now() - started > 60_000) throw new Error(`openlinq did not answer within 60 s: ${stderr}`);
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
  }
}

const built = currentServerBuild() !== undefined;
const dataDir = mkdtempSync(join(tmpdir(), "openlinq-cold-start-"));
try {
  const first = await startOnce(dataDir, "bin/openlinq.js");
  const runs: Record<Launcher, Start[]> = { "bin/openlinq.js": [], "sources via tsx": [] };
  // Interleaved, so a change in the machine's load hits both alike.
  for (let i = 0; i < RUNS; i++) {
    for (const launcher of Object.keys(LAUNCHERS) as Launcher[]) runs[launcher].push(await startOnce(dataDir, launcher));
  }
  console.log(
    `cold start: spawn → first 200 of GET /api/partner/v2/phone_numbers; Node ${process.version}, ${availableParallelism()} cores (shared); ` +
      `dist/server ${built ? "is current: bin/openlinq.js runs the build" : "is missing or stale: bin/openlinq.js runs the sources"}`,
  );
  const cpu = (starts: Start[]) =>
    starts.every((s) => s.cpuMs !== undefined) ? `, CPU time median ${median(starts.map((s) => s.cpuMs!)).toFixed(0)} ms` : "";
  console.log(`first start on an empty data dir (migrations, seeding), bin/openlinq.js: ${first.ms.toFixed(0)} ms${cpu([first])}`);
  for (const [launcher, starts] of Object.entries(runs)) {
    const times = starts.map((s) => s.ms);
    console.log(
      `restart on a warm disk, ${launcher.padEnd(16)} ${RUNS} runs: median ${median(times).toFixed(0)} ms ` +
        `(min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})${cpu(starts)}`,
    );
  }
  console.log("(CPU time is what the process itself spent; on a busy machine the wall time also holds the wait for a core)");
  const ours = median(runs["bin/openlinq.js"].map((s) => s.ms));
  console.log(`goal (npm start → first answer < ${GOAL_MS} ms): ${ours < GOAL_MS ? "met" : "MISSED"} (${ours.toFixed(0)} ms)`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
