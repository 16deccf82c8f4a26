import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";

/**
 * The README's V2 quickstart, run as a newcomer runs it: its shell blocks are taken from
 * README.md and executed by bash as written (only the ports 4010 and 4011 are swapped for free
 * ones), so the page cannot drift from what works. Its signature snippet is run against a
 * real delivery.
 */

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
/** A cold tsx cache on a slow machine takes a while to compile the sources. */
const WAIT_MS = 90_000;

function quickstartSection(): string {
  const start = README.indexOf("## V2 quickstart");
  assert.ok(start >= 0, "README.md has a '## V2 quickstart' section");
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

function codeBlocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp("^```" + language + "\\n([\\s\\S]*?)^```", "gm"))].map((match) => match[1]!);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Shell {
  /** stdout and stderr as they came. */
  output(): string;
  /** stdout alone: curl's progress meter goes to stderr and may land inside a line of the merged output. */
  stdout(): string;
  /** Resolves once the output matches (rejects if the process ends first or after WAIT_MS). */
  waitFor(pattern: RegExp): Promise<void>;
  stop(): Promise<void>;
}

/** bash -c `script` in its own process group, env without the caller's OPENLINQ_* keys. */
function runShell(script: string, extraEnv: Record<string, string> = {}): Shell {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("OPENLINQ_")) env[key] = value;
  Object.assign(env, extraEnv);
  const child: ChildProcess = spawn("bash", ["-c", script], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let stdout = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((listener) => listener());
  };
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  let exited = false;
  const closed = new Promise<void>((resolve) =>
    child.on("close", () => {
      exited = true;
      listeners.forEach((listener) => listener());
      resolve();
    }),
  );
  return {
    output: () => output,
    stdout: () => stdout,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no ${pattern} within ${WAIT_MS} ms; output:\n${output}`)), WAIT_MS);
        const done = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (pattern.test(output)) done();
          else if (exited) done(new Error(`ended before ${pattern}; output:\n${output}`));
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // Already gone.
      }
      await closed;
    },
  };
}

describe("README: the V2 quickstart runs as written", { timeout: 4 * WAIT_MS }, () => {
  const section = quickstartSection();
  const shellBlocks = codeBlocks(section, "bash");
  const dataDir = mkdtempSync(join(tmpdir(), "openlinq-readme-"));
  let apiPort: number;
  let receiverPort: number;
  const withPorts = (block: string) => block.replaceAll("4010", String(apiPort)).replaceAll("4011", String(receiverPort));
  let server: Shell | undefined;
  let receiver: Shell | undefined;

  before(async () => {
    apiPort = await freePort();
    receiverPort = await freePort();
  });
  after(async () => {
    await receiver?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("has the start, receiver, subscribe, send and answer steps as shell blocks", () => {
    assert.equal(shellBlocks.length, 5, `five bash blocks in the quickstart, got ${shellBlocks.length}`);
    assert.match(shellBlocks[0]!, /npm start/);
    assert.match(shellBlocks[1]!, /^node -e /);
    assert.match(shellBlocks[2]!, /webhook_subscriptions/);
    assert.match(shellBlocks[3]!, /\/chats/);
    assert.match(shellBlocks[4]!, /simulate\/inbound_message/);
  });

  it("starts, receives message.sent for our message and message.received for the answer", async () => {
    // The start block uses the default port; OPENLINQ_PORT moves it to a free one.
    server = runShell(shellBlocks[0]!, { OPENLINQ_DATA_DIR: dataDir, OPENLINQ_PORT: String(apiPort) });
    await server.waitFor(/^\s*Database\s/m);
    receiver = runShell(withPorts(shellBlocks[1]!));
    await waitForListening(receiverPort);

    // One shell, as in the third terminal: the blocks share BASE and TOKEN.
    const script = shellBlocks.slice(2).map((block) => `${withPorts(block)}\necho`).join("\n");
    const steps = runShell(`set -e\n${script}\necho quickstart-done`);
    await steps.waitFor(/^quickstart-done$/m);
    const answers = steps
      .stdout()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    assert.equal(answers.length, 3, `three JSON answers, got:\n${steps.output()}`);
    assert.equal(answers[0].webhook_subscription.webhook_url, `http://127.0.0.1:${receiverPort}/webhooks/linq`);
    assert.equal(answers[1].data.message.delivery_status, "delivered");
    assert.ok(!("error" in answers[2]), `the simulate call succeeds: ${JSON.stringify(answers[2])}`);

    await receiver.waitFor(/^message\.received /m);
    const printed = receiver.output();
    assert.match(printed, /^message\.sent \{.*"Hello! This is my first message via the Linq API\."/m);
    const received = /^message\.received (\{.*)$/m.exec(printed)!;
    assert.equal(JSON.parse(received[1]!).data.text, "Thanks! This is my reply.");
  });

  it("its signature snippet accepts a real delivery signed with a whsec_ secret", async () => {
    const sink: Receiver = await startReceiver();
    try {
      const token = /^OPENLINQ_TOKEN=(\S+)/m.exec(shellBlocks[0]!)![1]!;
      const base = `http://127.0.0.1:${apiPort}`;
      const call = async (path: string, body: unknown) => {
        const response = await fetch(`${base}${path}`, {
          method: "POST",
          headers: { "X-LINQ-INTEGRATION-TOKEN": token, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        return (await response.json()) as any;
      };
      const created = await call("/api/partner/v2/webhook_subscriptions", {
        webhook_url: `${sink.url}/hook`,
        events: ["message.received"],
        version: 2,
        active: true,
      });
      const secret: string = created.webhook_subscription.secret;
      assert.match(secret, /^whsec_/);
      await call("/openlinq/v1/simulate/inbound_message", { from: "+15551234567", to: "+19998887777", text: "signed?" });
      await sink.waitFor((requests) => requests.length > 0, WAIT_MS);
      const delivery = sink.requests[0]!;

      const [snippet] = codeBlocks(section, "js");
      assert.ok(snippet, "the quickstart has a js block");
      const verify = new Function("require", "secret", "rawBody", "req", `${snippet}\nreturn valid;`);
      const require = createRequire(import.meta.url);
      assert.equal(verify(require, secret, delivery.body, { headers: delivery.headers }), true);
      assert.equal(verify(require, secret.slice("whsec_".length), delivery.body, { headers: delivery.headers }), false, "without the prefix it fails");
    } finally {
      await sink.close();
    }
  });
});

/** Resolves once something accepts connections on the port (the receiver started by bash). */
async function waitForListening(port: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "" }).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
