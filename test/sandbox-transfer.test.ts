import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { createChat, V2 } from "./helpers/v2.ts";
import { PNG, GIF } from "./fixtures/media.ts";

const OWN = "/openlinq/v1";

/**
 * Export, then import into a fresh store: every V2 list and get answers exactly as before,
 * attachments included byte for byte; bad files and non-empty stores are refused whole.
 */

/** Fills a sandbox with one of everything the file carries. */
async function populate(t: TestApp, receiverUrl: string): Promise<void> {
  const ok = (res: { status: number; raw: string }, status = 201) => assert.equal(res.status, status, res.raw);
  ok(await t.request("PUT", `${OWN}/handles/%2B15556660001`, { body: { service: "RCS", jitter_ms: 0 } }), 200);
  ok(await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: "Ada", last_name: "Lovelace", phone_number: "+15556660001", company: "Engines" } } }));
  ok(await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: "Alan", email: "alan@example.com" } } }));
  const one = await createChat(t, ["+15556660001"], "first words");
  const group = await createChat(t, ["+15556660002", "+15556660003"], "hello group");
  ok(
    await t.multipart("POST", `${V2}/chats/${one.id}/chat_messages`, [
      ["message[text]", "two files"],
      ["message[attachments][]", { filename: "pixel.png", data: PNG, type: "image/png" }],
      ["message[attachments][]", { filename: "tiny.gif", data: GIF, type: "image/gif" }],
    ]),
  );
  const inbound = await t.request("POST", `${OWN}/simulate/inbound_message`, {
    body: { from: "+15556660002", chat_id: group.id, text: "answer from the group" },
  });
  ok(inbound);
  const messageId = inbound.body.data.message?.id ?? inbound.body.data.chat_message?.id ?? inbound.body.data.id;
  ok(await t.request("POST", `${V2}/chat_messages/${messageId}/reactions`, { body: { type: "love", operation: "add" } }));
  // Last, so no delivery is under way while the source is exported and compared.
  ok(
    await t.request("POST", `${V2}/webhook_subscriptions`, {
      body: { webhook_subscription: { webhook_url: `${receiverUrl}/hooks`, version: 2, events: ["message.received"], secret: "whsec_kept" } },
    }),
  );
}

/** Every V2 list and get answer, and the simulator profiles, keyed by URL. */
async function answers(t: TestApp): Promise<Map<string, { status: number; body: unknown }>> {
  const seen = new Map<string, { status: number; body: unknown }>();
  const get = async (url: string) => {
    const res = await t.request("GET", url);
    seen.set(url, { status: res.status, body: res.body });
    return res.body;
  };
  const chats = await get(`${V2}/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}&per_page=100`);
  for (const chat of chats.data as { id: number }[]) {
    await get(`${V2}/chats/${chat.id}`);
    const messages = await get(`${V2}/chats/${chat.id}/chat_messages?per_page=100`);
    for (const message of messages.data as { id: number; attachments: { url: string; id: string }[]; reactions: { id: number }[] }[]) {
      await get(`${V2}/chats/${chat.id}/chat_messages/${message.id}`);
      for (const reaction of message.reactions) await get(`${V2}/chat_message_reactions/${reaction.id}`);
      for (const attachment of message.attachments) {
        const res = await t.request("GET", new URL(attachment.url).pathname);
        seen.set(attachment.url, { status: res.status, body: Buffer.from(res.raw, "latin1").toString("base64") });
      }
    }
  }
  const contacts = await get(`${V2}/contacts`);
  for (const contact of contacts.contacts as { id: number }[]) await get(`${V2}/contacts/${contact.id}`);
  await get(`${V2}/phone_numbers`);
  await get(`${V2}/webhook_subscriptions`);
  await get(`${OWN}/handles`);
  return seen;
}

for (const dialect of DIALECTS) {
  describe(`sandbox export and import (${dialect})`, () => {
    let source: TestApp;
    let receiver: Receiver;
    let file: Record<string, any>;
    const started: TestApp[] = [];
    const fresh = async () => {
      const t = await startTestApp(dialect);
      started.push(t);
      return t;
    };

    before(async () => {
      receiver = await startReceiver();
      source = await fresh();
      await populate(source, receiver.url);
      const res = await source.request("GET", `${OWN}/export?secrets=true`);
      assert.equal(res.status, 200, res.raw);
      file = res.body;
    });
    after(async () => {
      for (const t of started) await t.close();
      await receiver?.close();
    });

    it("exports a versioned file with every table and the attachments' bytes", () => {
      assert.equal(file.format, "openlinq-sandbox");
      assert.equal(file.version, 1);
      assert.equal(file.secrets_included, true);
      const [org] = file.organizations;
      assert.equal(org.chats.length, 2);
      assert.equal(org.contacts.length, 2);
      assert.equal(org.handle_profiles.length, 1);
      assert.equal(org.reactions.length, 1);
      assert.deepEqual(org.phone_numbers.map((n: { phone_number: string }) => n.phone_number), [OUR_NUMBER]);
      assert.deepEqual(
        org.attachments.map((a: { filename: string; data: string }) => [a.filename, Buffer.from(a.data, "base64").equals(a.filename.endsWith("png") ? PNG : GIF)]),
        [
          ["pixel.png", true],
          ["tiny.gif", true],
        ],
      );
      assert.equal(org.webhook_subscriptions[0].secret, "whsec_kept");
    });

    it("leaves subscription secrets out unless asked", async () => {
      const res = await source.request("GET", `${OWN}/export`);
      assert.equal(res.status, 200);
      assert.equal(res.body.secrets_included, false);
      assert.equal(res.body.organizations[0].webhook_subscriptions[0].secret, null);
    });

    it("imports into a fresh store, which then answers every V2 list and get exactly as the source", async () => {
      const target = await fresh();
      const imported = await target.request("POST", `${OWN}/import`, { body: file });
      assert.equal(imported.status, 201, imported.raw);
      assert.deepEqual(imported.body.imported, { chats: 2, messages: 4, attachments: 2, contacts: 2, webhook_subscriptions: 1 });

      const before_ = await answers(source);
      const after_ = await answers(target);
      assert.ok(before_.size > 15, `compared ${before_.size} answers`);
      assert.deepEqual([...after_.keys()], [...before_.keys()]);
      for (const [url, answer] of before_) {
        assert.equal(answer.status, 200, url);
        assert.deepEqual(after_.get(url), answer, url);
      }

      // New rows get ids after the imported ones, and the imported subscription still delivers.
      const chat = await createChat(target, ["+15556660009"], "after the import");
      const maxChatId = Math.max(...file.organizations[0].chats.map((c: { id: number }) => c.id));
      assert.ok(chat.id > maxChatId, `new chat ${chat.id} after ${maxChatId}`);
      const inbound = await target.request("POST", `${OWN}/simulate/inbound_message`, {
        body: { from: "+15556660009", chat_id: chat.id, text: "still wired" },
      });
      assert.equal(inbound.status, 201, inbound.raw);
      await receiver.waitFor((requests) => requests.some((r) => r.body.includes("still wired")));
    });

    it("refuses a second import into a store that has content, and changes nothing", async () => {
      const target = await fresh();
      assert.equal((await target.request("POST", `${OWN}/import`, { body: file })).status, 201);
      const again = await target.request("POST", `${OWN}/import`, { body: file });
      assert.equal(again.status, 409, again.raw);
      assert.match(again.raw, /already has chats; import into an empty store/);

      const busy = await fresh();
      await createChat(busy, ["+15556660010"], "mine");
      const refused = await busy.request("POST", `${OWN}/import`, { body: file });
      assert.equal(refused.status, 409, refused.raw);
      const chats = await busy.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`);
      assert.equal(chats.body.data.length, 1, "nothing was written");
    });

    it("checks the whole file first and lists its problems", async () => {
      const target = await fresh();
      const bad = structuredClone(file);
      bad.organizations[0].messages[0].chat_id = 999_999;
      bad.organizations[0].attachments[0].data = "not base64!";
      delete bad.organizations[0].contacts[0].first_name;
      const res = await target.request("POST", `${OWN}/import`, { body: bad });
      assert.equal(res.status, 422, res.raw);
      assert.match(res.raw, /organizations\[0\]\.contacts\[0\]\.first_name: is missing/);
      assert.match(res.raw, /organizations\[0\]\.messages\[0\]\.chat_id: names 999999, which is not in chats/);
      assert.match(res.raw, /organizations\[0\]\.attachments\[0\]\.data: must be base64/);

      const newer = await target.request("POST", `${OWN}/import`, { body: { ...file, version: 2 } });
      assert.equal(newer.status, 422);
      assert.match(newer.raw, /version: must be 1/);
      const two = await target.request("POST", `${OWN}/import`, {
        body: { ...file, organizations: [file.organizations[0], { ...file.organizations[0], organization: { ...file.organizations[0].organization, id: 2 } }] },
      });
      assert.equal(two.status, 422);
      assert.match(two.raw, /exactly one organization/);
      const chats = await target.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`);
      assert.equal(chats.body.data.length, 0, "nothing was written");
      assert.equal((await target.request("POST", `${OWN}/import`, { body: file })).status, 201, "the good file still goes in");
    });
  });
}

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "openlinq.js");

/** Runs the real `openlinq` command on a SQLite data dir; resolves with its exit code and output. */
function openlinq(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("OPENLINQ_")) env[key] = value;
  Object.assign(env, { OPENLINQ_DATA_DIR: dataDir, OPENLINQ_LOG_LEVEL: "warn" });
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("openlinq export and openlinq import on the command line (sqlite)", () => {
  let source: TestApp;
  let copy: TestApp | undefined;
  let receiver: Receiver;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "openlinq-transfer-"));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    receiver = await startReceiver();
    source = await startTestApp("sqlite");
    await populate(source, receiver.url);
  });
  after(async () => {
    await copy?.close();
    await source?.close();
    await receiver?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("carries a store to a fresh data directory that then answers as the source", async () => {
    const exported = await openlinq(["export", "--with-secrets"], source.dataDir);
    assert.equal(exported.code, 0, exported.stderr);
    const file = JSON.parse(exported.stdout);
    assert.equal(file.organizations.length, 1);
    assert.equal(file.organizations[0].webhook_subscriptions[0].secret, "whsec_kept");
    const path = join(tempDir(), "sandbox.json");
    writeFileSync(path, exported.stdout);

    const target = tempDir();
    const imported = await openlinq(["import", path], target);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported organization 1: 2 chats, 4 messages, 2 attachments, 2 contacts, 1 webhook subscriptions/);

    const again = await openlinq(["import", path], target);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^openlinq: organization 1 already has chats; import into an empty store/);
    const missing = await openlinq(["import", join(target, "nope.json")], target);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.json as JSON/);

    copy = await startTestApp("sqlite", { config: { DATA_DIR: target } });
    const before_ = await answers(source);
    const after_ = await answers(copy);
    assert.deepEqual(after_, before_);
  });
});
