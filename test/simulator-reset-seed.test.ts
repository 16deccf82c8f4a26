import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../src/config/config.ts";
import { DIALECTS, OUR_NUMBER, TEST_TOKEN, type TestApp } from "./helpers/app.ts";
import { SANDBOX, advance, getProfile, listen, simulate, startSandbox, type Listener } from "./helpers/sandbox.ts";
import { V2, assertRenderError, countChats, createChat, listMessages } from "./helpers/v2.ts";

const SEED = `
# The world before you connected.
profiles:
  "+15551230601": { service: SMS, read_after_ms: never }
  +15551230602:                       # unquoted: YAML reads a number, the seed takes it back
    auto_reply: { type: script, replies: ["Welcome back!"] }
contacts:
  - { first_name: Ada, last_name: Lovelace, phone_number: "+15551230601", company: Analytical Engines }
chats:
  - phone_numbers: ["+15551230601"]
    messages:
      - { from: "+15551230601", text: "Is my order ready?" }
      - { text: "Yes, pick it up anytime.", read: true }
      - { from: "+15551230601", text: "On my way" }
`;

async function eventCount(t: TestApp, token?: string): Promise<number> {
  const res = await t.request("GET", `${SANDBOX}/events`, { token });
  assert.equal(res.status, 200, res.raw);
  return res.body.pagination.total_count;
}

/** The seed file (OPENLINQ_SEED_FILE) and POST /openlinq/v1/reset. */
for (const dialect of DIALECTS) {
  describe(`simulator: seed file and reset (${dialect})`, () => {
    let dir: string;
    let seedFile: string;
    let t: TestApp;
    let hooks: Listener;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "openlinq-seed-"));
      seedFile = join(dir, "seed.yaml");
      writeFileSync(seedFile, SEED);
      t = await startSandbox(dialect, { SEED_FILE: seedFile });
      hooks = await listen(t);
    });
    after(async () => {
      await hooks.close();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function seededChat() {
      const found = await t.request("GET", `${V2}/chats/find?phone_number=${encodeURIComponent(OUR_NUMBER)}&phone_numbers[]=%2B15551230601`);
      assert.equal(found.status, 200, found.raw);
      return found.body.data.chat;
    }

    it("loads profiles, contacts and chats with their history into a fresh organization, without webhooks", async () => {
      const sms = await getProfile(t, "+15551230601");
      assert.equal(sms.stored, true);
      assert.equal(sms.service, "SMS");
      assert.equal(sms.read_after_ms, null);
      assert.deepEqual((await getProfile(t, "+15551230602")).auto_reply, {
        type: "script",
        loop: false,
        replies: [{ text: "Welcome back!", delay_ms: 0, attachment_urls: [] }],
      });
      const contacts = await t.request("GET", `${V2}/contacts`);
      assert.deepEqual(contacts.body.contacts.map((c: { full_name: string; company: string }) => [c.full_name, c.company]), [
        ["Ada Lovelace", "Analytical Engines"],
      ]);
      const chat = await seededChat();
      assert.equal(chat.service, "SMS");
      assert.equal(chat.message_count, 3);
      const messages = await listMessages(t, chat.id);
      assert.deepEqual(messages.map((m) => [m.sent_from, m.text, m.delivery_status, m.is_read]), [
        ["+15551230601", "Is my order ready?", "delivered", false],
        [OUR_NUMBER, "Yes, pick it up anytime.", "delivered", true],
        ["+15551230601", "On my way", "delivered", false],
      ]);
      assert.ok(Date.parse(messages[0].sent_at) < Date.parse(messages[2].sent_at));
      assert.equal(await eventCount(t), 0);
    });

    it("reset wipes chats, messages, contacts, events, profiles and calls, keeps the rest, and reloads the seed", async () => {
      const chat = await createChat(t, ["+15551230603"], "Before the reset");
      await simulate(t, "inbound_message", { from: "+15551230603", chat_id: chat.id, text: "Reply before the reset" });
      await simulate(t, "call", { from: "+15551230603", to: OUR_NUMBER, duration_seconds: 10 });
      await t.request("PUT", `${SANDBOX}/handles/${encodeURIComponent("+15551230603")}`, { body: { latency_ms: 10 } });
      await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: "Grace" } } });
      await advance(t, 0);
      const delivered = hooks.envelopes().length;
      assert.ok(delivered >= 5);
      // Every event goes, those no V2 subscription gets (message.delivered) included.
      const events = await eventCount(t);
      assert.ok(events > delivered);

      const res = await t.request("POST", `${SANDBOX}/reset`);
      assert.equal(res.status, 200, res.raw);
      assert.deepEqual(res.body.data, {
        deleted: { chats: 2, messages: 5, contacts: 2, events, profiles: 3, calls: 1 },
        seeded: { profiles: 2, contacts: 1, chats: 1, messages: 3 },
      });

      assert.equal(await countChats(t), 1);
      assert.equal((await t.request("GET", `${V2}/chats/${chat.id}`)).status, 404);
      assert.equal((await getProfile(t, "+15551230603")).stored, false);
      assert.equal((await getProfile(t, "+15551230601")).stored, true);
      assert.equal(await eventCount(t), 0);
      const subscriptions = await t.request("GET", `${V2}/webhook_subscriptions`);
      assert.deepEqual(subscriptions.body.webhook_subscriptions.map((s: { id: number }) => s.id), [hooks.subscriptionId]);
      const numbers = await t.request("GET", `${V2}/phone_numbers`, { token: TEST_TOKEN });
      assert.deepEqual(numbers.body.phone_numbers.map((n: { phone_number: string }) => n.phone_number), [OUR_NUMBER]);
      await advance(t, 60_000);
      assert.equal(hooks.envelopes().length, delivered, "a reset sends no webhooks");

      // Life goes on: the seeded bot answers its first message again, the receiver hears it.
      await createChat(t, ["+15551230602"], "Hello again");
      await advance(t, 0);
      assert.deepEqual(hooks.types(delivered), ["chat.created", "message.sent", "message.received"]);
      assert.equal(hooks.envelopes().at(-1)!.data.text, "Welcome back!");
    });

    it("drops what the simulator had planned for the organization", async () => {
      await t.request("PUT", `${SANDBOX}/handles/${encodeURIComponent("+15551230604")}`, {
        body: { latency_ms: 5000, auto_reply: { type: "echo", delay_ms: 1000 } },
      });
      await createChat(t, ["+15551230604"], "Planned echo");
      await advance(t, 0);
      const seen = hooks.envelopes().length;
      assert.equal((await t.request("POST", `${SANDBOX}/reset`)).status, 200);
      await advance(t, 10_000);
      assert.equal(hooks.envelopes().length, seen, "no echo arrives for a wiped chat");
    });

    it("refuses a seed file that became invalid, and then wipes nothing", async () => {
      writeFileSync(seedFile, `profiles:\n  "+15551230605": { service: Fax }\nchats:\n  - phone_numbers: []\nextra: 1\n`);
      try {
        const res = await t.request("POST", `${SANDBOX}/reset`);
        const detail = assertRenderError(res, 422, /nothing was reset/);
        assert.match(detail, /service must be one of iMessage, SMS, RCS/);
        assert.match(detail, /phone_numbers must list 1 to 32 recipients/);
        assert.match(detail, /extra is not a seed section/);
        assert.equal(await countChats(t), 1, "the seeded chat is still there");
      } finally {
        writeFileSync(seedFile, SEED);
      }
    });

    it("keeps other organizations as they are", async () => {
      const other = await t.secondOrg();
      const theirs = await simulate(t, "inbound_message", { from: "+15551230606", to: OUR_NUMBER, text: "ours" });
      const res = await t.request("POST", `${SANDBOX}/simulate/inbound_message`, {
        token: other.token,
        body: { from: "+15551230606", to: other.number, text: "theirs" },
      });
      assert.equal(res.status, 201, res.raw);
      assert.equal((await t.request("POST", `${SANDBOX}/reset`, { token: other.token })).status, 200);
      assert.equal((await t.request("GET", `${V2}/chats/${theirs.chat.id}`)).status, 200, "our chat survives their reset");
      assert.equal((await t.request("GET", `${V2}/chats/${res.body.data.chat.id}`, { token: other.token })).status, 404);
      const seeded = await t.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(other.number)}`, { token: other.token });
      assert.equal(seeded.body.meta.total_count, 1, "the seed (no send_from) lands on their first number");
    });

    it("stops the start on a bad seed file, listing every problem", async () => {
      const bad = join(dir, "bad.yaml");
      writeFileSync(bad, `profiles:\n  "not a number": {}\ncontacts:\n  - { email: "nope" }\n`);
      await assert.rejects(startSandbox(dialect, { SEED_FILE: bad }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 2);
        assert.match(error.problems[0]!, /profiles\["not a number"\]\.handle/);
        assert.match(error.problems[1]!, /contacts\[0\]: contact\.email "nope" is not a valid email address/);
        return true;
      });
    });
  });
}
