import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/** Real `openlinq` processes for the crash tests: started as a user would, killed with SIGKILL. */

const BIN = join(import.meta.dirname, "..", "..", "bin", "openlinq.js");

export interface Spawned {
  child: ChildProcess;
  /** API base URL for `serve`, undefined for `worker`. */
  baseUrl: string | undefined;
}

export function spawnOpenlinq(args: string[], env: Record<string, string>): Promise<Spawned> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const api = /API\s+(http:\/\/\S+)\/api\/partner\/v2/.exec(output);
      if (api) return done({ child, baseUrl: api[1] });
      if (output.includes("webhook worker is running")) return done({ child, baseUrl: undefined });
    };
    const timer = setTimeout(() => fail(new Error(`openlinq ${args.join(" ")} did not start:\n${output}`)), 180_000);
    const done = (spawned: Spawned) => {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.stdout!.resume();
      resolve(spawned);
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => fail(new Error(`openlinq ${args.join(" ")} exited with ${code}:\n${output}`)));
  });
}

export function killHard(spawned: Spawned): Promise<void> {
  return new Promise((resolve) => {
    if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) return resolve();
    spawned.child.once("exit", () => resolve());
    spawned.child.kill("SIGKILL");
  });
}

export function stopGracefully(spawned: Spawned): Promise<void> {
  return new Promise((resolve) => {
    if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) return resolve();
    spawned.child.once("exit", () => resolve());
    spawned.child.kill("SIGTERM");
  });
}

/** A JSON call with the integration token; fails the test on a non-2xx answer. */
export async function callApi(token: string, baseUrl: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { "x-linq-integration-token": token, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
