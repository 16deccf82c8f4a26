import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/**
 * Real `openlinq` processes for crash, shutdown and several-node tests: spawned from
 * bin/openlinq.js with the environment given, waited for until their banner shows, and
 * stopped with a signal of the test's choosing.
 */

const BIN = join(import.meta.dirname, "..", "..", "bin", "openlinq.js");

export interface Spawned {
  child: ChildProcess;
  /** API base URL for `serve`, undefined for `worker`. */
  baseUrl: string | undefined;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
}

export function spawnOpenlinq(args: string[], env: Record<string, string>): Promise<Spawned> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const onData = () => {
      const api = /API\s+(http:\/\/\S+)\/api\/partner\/v2/.exec(output);
      if (api) return done(api[1]);
      if (output.includes("webhook worker is running")) return done(undefined);
    };
    const onExit = (code: number | null) => fail(new Error(`openlinq ${args.join(" ")} exited with ${code}:\n${output}`));
    const timer = setTimeout(() => fail(new Error(`openlinq ${args.join(" ")} did not start:\n${output}`)), 120_000);
    const done = (baseUrl: string | undefined) => {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      resolve({ child, baseUrl, output: () => output });
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    child.stdout!.on("data", onData);
    child.on("exit", onExit);
  });
}

function exited(spawned: Spawned): boolean {
  return spawned.child.exitCode !== null || spawned.child.signalCode !== null;
}

export function killHard(spawned: Spawned): Promise<void> {
  return new Promise((resolve) => {
    if (exited(spawned)) return resolve();
    spawned.child.once("exit", () => resolve());
    spawned.child.kill("SIGKILL");
  });
}

/** SIGTERM; resolves with the exit code once the process is gone. */
export function stopGracefully(spawned: Spawned): Promise<number | null> {
  return new Promise((resolve) => {
    if (exited(spawned)) return resolve(spawned.child.exitCode);
    spawned.child.once("exit", (code) => resolve(code));
    spawned.child.kill("SIGTERM");
  });
}
