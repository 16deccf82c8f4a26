import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, type Dialect } from "./helpers/app.ts";
import { startFileServer, type FileServer } from "./helpers/file-server.ts";
import { dropPostgresSchema } from "../src/storage/database.ts";

/**
 * The seed quickstart (your-first-message.md) as a newcomer runs it: `npm start`, then its
 * five curl commands unchanged, pointed at localhost. Everything runs in a real child
 * process, so the banner, the env keys, the port and shutdown are the ones users get.
 */

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const JPEG = readFileSync(join(REPO_ROOT, "test/fixtures/pixel.jpg"));
const SEED_TOKEN = "quickstart-token-1234";
const OUR_NUMBER = "+19998887777";
/** First starts compile the sources through tsx; generous so a cold cache on a slow machine passes. */
const START_TIMEOUT_MS = 60_000;

interface Running {
  apiUrl: string;
  /** The token to call with: OPENLINQ_TOKEN when given (the banner shows only its prefix), else the one the banner printed. */
  token: string;
  /** What the banner's Token line shows first. */
  shownToken: string;
  output(): string;
  /** SIGTERM to the whole process group (as Ctrl-C in a terminal does); resolves once every process is gone. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `npm start` with only the given OPENLINQ_* keys (the caller's own are dropped); waits for the banner. */
async function startOpenlinq(openlinqEnv: Record<string, string>): Promise<Running> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("OPENLINQ_")) env[key] = value;
  Object.assign(env, openlinqEnv);
  // detached: its own process group, so stop() reaches npm, the shell and the server alike.
  const child: ChildProcess = spawn("npm", ["start"], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));

  const banner = await new Promise<{ apiUrl: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no banner within ${START_TIMEOUT_MS} ms; output:\n${output}`));
    }, START_TIMEOUT_MS);
    const check = () => {
      const api = /^\s*API\s+(\S+)/m.exec(output);
      const token = /^\s*Token\s+(\S+)/m.exec(output);
      if (api && token && /^\s*Database\s/m.test(output)) {
        clearTimeout(timer);
        resolve({ apiUrl: api[1]!, token: token[1]! });
      }
    };
    child.stdout!.on("data", check);
    child.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before the banner; output:\n${output}`));
    });
  });

  return {
    apiUrl: banner.apiUrl,
    token: openlinqEnv.OPENLINQ_TOKEN ?? banner.token,
    shownToken: banner.token,
    output: () => output,
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

/** The curl calls of the quickstart: same method, headers and body text. */
function curl(running: Running, token: string = running.token) {
  return async (method: "GET" | "POST", path: string, body?: string) => {
    const response = await fetch(`${running.apiUrl}${path}`, {
      method,
      headers: {
        "X-LINQ-INTEGRATION-TOKEN": token,
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  };
}

/** Where a start keeps its rows: a fresh data dir, plus a fresh Postgres schema for the postgres dialect. */
function storageFor(dialect: Dialect) {
  const dataDir = mkdtempSync(join(tmpdir(), "openlinq-quickstart-"));
  const schema = `quickstart_${randomBytes(6).toString("hex")}`;
  const env: Record<string, string> = { OPENLINQ_DATA_DIR: dataDir };
  if (dialect === "postgres") {
    env.OPENLINQ_DATABASE_URL = process.env.TEST_DATABASE_URL!;
    env.OPENLINQ_DATABASE_SCHEMA = schema;
  }
  return {
    env,
    async remove() {
      rmSync(dataDir, { recursive: true, force: true });
      if (dialect === "postgres") {
        await dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
      }
    },
  };
}

for (const dialect of DIALECTS) {
  describe(`seed quickstart through npm start (${dialect})`, { timeout: 4 * START_TIMEOUT_MS }, () => {
    const storage = storageFor(dialect);
    let cdn: FileServer;
    let port: number;
    let running: Running | undefined;
    const seen: { chatId?: number; firstMessageId?: number; imageMessageId?: number; attachmentUrl?: string } = {};

    before(async () => {
      // The "CDN" of step 4: a real HTTP server on port 0 instead of your-cdn.com.
      cdn = await startFileServer({ "/image.jpg": { body: JPEG, type: "image/jpeg" } });
      port = await freePort();
      running = await startOpenlinq({ ...storage.env, OPENLINQ_TOKEN: SEED_TOKEN, OPENLINQ_PORT: String(port) });
    });
    after(async () => {
      await running?.stop();
      await cdn.close();
      await storage.remove();
    });

    it("prints a banner with the API URL, the chosen token's prefix and the phone number", () => {
      const output = running!.output();
      assert.equal(running!.apiUrl, `http://127.0.0.1:${port}/api/partner/v2`);
      assert.equal(running!.shownToken, "quic…");
      assert.ok(!output.includes(SEED_TOKEN), "a chosen token is never printed whole");
      assert.match(output, /^\s*Numbers\s+\+19998887777$/m);
      assert.match(output, new RegExp(`^\\s*Inbox\\s+http://127\\.0\\.0\\.1:${port}/`, "m"));
      assert.doesNotMatch(output, /DeprecationWarning|FSTDEP/, "a clean start prints no deprecation warnings");
    });

    it("step 1: creates a chat and sends the first message", async () => {
      const res = await curl(running!)(
        "POST",
        "/chats",
        `{
    "phone_numbers": ["+15551234567"],
    "message": {
      "text": "Hello! This is my first message via the Linq API."
    },
    "phone_number": "+19998887777"
  }`,
      );
      assert.equal(res.status, 200);
      const { chat, message } = res.body.data;
      assert.equal(typeof chat.id, "number");
      assert.equal(chat.display_name, "+1 (555) 123-4567");
      assert.equal(chat.service, "iMessage");
      assert.equal(chat.group, false);
      assert.equal(chat.message_count, 1);
      assert.equal(typeof message.id, "number");
      assert.equal(message.text, "Hello! This is my first message via the Linq API.");
      assert.equal(message.delivery_status, "delivered");
      assert.ok(!Number.isNaN(Date.parse(message.sent_at)), `sent_at "${message.sent_at}" is a timestamp`);
      seen.chatId = chat.id;
      seen.firstMessageId = message.id;
    });

    it("step 2: lists our phone numbers with their user", async () => {
      const res = await curl(running!)("GET", "/phone_numbers");
      assert.equal(res.status, 200);
      const ours = res.body.phone_numbers.find((n: { phone_number: string }) => n.phone_number === OUR_NUMBER);
      assert.ok(ours, `phone_numbers lists ${OUR_NUMBER}`);
      assert.equal(typeof ours.id, "number");
      assert.equal(ours.forwarding_number, null);
      assert.equal(typeof ours.response_rate, "number");
      assert.equal(typeof ours.user.id, "number");
      assert.equal(typeof ours.user.name, "string");
      assert.match(ours.user.email, /@/);
    });

    it("step 3: creates a webhook subscription and hands back its signing secret", async () => {
      const res = await curl(running!)(
        "POST",
        "/webhook_subscriptions",
        `{
    "webhook_url": "https://your-app.com/webhooks/linq",
    "events": ["message.received", "message.sent"],
    "version": 2,
    "active": true
  }`,
      );
      assert.equal(res.status, 201);
      const subscription = res.body.webhook_subscription;
      assert.equal(typeof subscription.id, "number");
      assert.equal(subscription.webhook_url, "https://your-app.com/webhooks/linq");
      assert.deepEqual(subscription.events, ["message.received", "message.sent"]);
      assert.equal(subscription.version, 2);
      assert.equal(subscription.active, true);
      assert.equal(typeof subscription.secret, "string");
      assert.ok(subscription.secret.length >= 8, "the secret is long enough to sign with");
    });

    it("step 4: sends a message with an image fetched from its URL", async () => {
      const res = await curl(running!)(
        "POST",
        `/chats/${seen.chatId}/chat_messages`,
        `{
    "text": "Check out this image!",
    "attachment_urls": [
      "${cdn.url("/image.jpg")}"
    ]
  }`,
      );
      assert.equal(res.status, 201);
      const message = res.body.data;
      assert.equal(message.text, "Check out this image!");
      assert.equal(message.delivery_status, "delivered");
      assert.equal(message.attachments.length, 1);
      assert.equal(message.attachments[0].mime_type, "image/jpeg");
      assert.equal(message.attachments[0].file_size, JPEG.length);
      const download = await fetch(message.attachments[0].url);
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), JPEG);
      seen.imageMessageId = message.id;
      seen.attachmentUrl = message.attachments[0].url;
    });

    it("step 5: reacts to a message", async () => {
      const res = await curl(running!)(
        "POST",
        `/chat_messages/${seen.imageMessageId}/reactions`,
        `{
    "type": "love",
    "operation": "add"
  }`,
      );
      assert.equal(res.status, 201);
      assert.equal(res.body.data.reaction, "love");
      assert.equal(res.body.data.chat_message_id, seen.imageMessageId);
    });

    it("keeps every row across a stop (SIGTERM) and a second start on the same data", async () => {
      await running!.stop();
      running = await startOpenlinq({ ...storage.env, OPENLINQ_TOKEN: SEED_TOKEN, OPENLINQ_PORT: String(port) });
      assert.equal(running.apiUrl, `http://127.0.0.1:${port}/api/partner/v2`);
      assert.equal(running.shownToken, "quic…");
      assert.match(running.output(), /^\s*Numbers\s+\+19998887777$/m);
      const call = curl(running);

      const chats = await call("GET", `/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`);
      assert.equal(chats.status, 200);
      const chat = chats.body.data.find((c: { id: number }) => c.id === seen.chatId);
      assert.ok(chat, "the chat from step 1 is still listed");
      assert.equal(chat.message_count, 2);

      const messages = await call("GET", `/chats/${seen.chatId}/chat_messages`);
      assert.deepEqual(
        messages.body.data.map((m: { id: number }) => m.id),
        [seen.firstMessageId, seen.imageMessageId],
      );
      const withImage = messages.body.data[1];
      assert.deepEqual(
        withImage.reactions.map((r: { reaction: string }) => r.reaction),
        ["love"],
      );
      const download = await fetch(seen.attachmentUrl!);
      assert.equal(download.status, 200, "the stored image survives the restart");

      const subscriptions = await call("GET", "/webhook_subscriptions");
      assert.deepEqual(
        subscriptions.body.webhook_subscriptions.map((s: { webhook_url: string }) => s.webhook_url),
        ["https://your-app.com/webhooks/linq"],
      );

      const numbers = await call("GET", "/phone_numbers");
      assert.deepEqual(
        numbers.body.phone_numbers.map((n: { phone_number: string }) => n.phone_number),
        [OUR_NUMBER],
        "the bootstrap number is not provisioned twice",
      );
    });
  });

  describe(`first start without OPENLINQ_TOKEN (${dialect})`, { timeout: 3 * START_TIMEOUT_MS }, () => {
    const storage = storageFor(dialect);
    let running: Running | undefined;
    after(async () => {
      await running?.stop();
      await storage.remove();
    });

    it("prints a new random token that works, and keeps it valid on the next start", async () => {
      running = await startOpenlinq({ ...storage.env, OPENLINQ_PORT: "0" });
      const token = running.token;
      assert.match(running.output(), /Token\s+\S+\s+\(new; shown once/);
      assert.ok(token.length >= 20, `token "${token}" is long enough to be unguessable`);
      assert.match(running.apiUrl, /^http:\/\/127\.0\.0\.1:\d+\/api\/partner\/v2$/);
      assert.doesNotMatch(running.apiUrl, /:0\//, "port 0 is shown as the port actually picked");

      const numbers = await curl(running)("GET", "/phone_numbers");
      assert.equal(numbers.status, 200);
      assert.equal(numbers.body.phone_numbers[0].phone_number, OUR_NUMBER);
      const wrong = await curl(running, "not-the-token")("GET", "/phone_numbers");
      assert.equal(wrong.status, 401);

      await running.stop();
      running = await startOpenlinq({ ...storage.env, OPENLINQ_PORT: "0" });
      assert.doesNotMatch(running.output(), new RegExp(token), "a token is shown once, not on every start");
      const again = await curl(running, token)("GET", "/phone_numbers");
      assert.equal(again.status, 200, "the token printed on the first start still works");
    });
  });
}
