import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Migrator, sql, type Kysely } from "kysely";
import { buildApp, type OpenLinq } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { dropPostgresSchema, openStorage } from "../src/storage/database.ts";
import { migrationProvider } from "../src/storage/migrations/index.ts";
import { DIALECTS, OUR_NUMBER, startTestApp, TEST_TOKEN, type TestApp } from "./helpers/app.ts";
import { startReceiver, type ReceivedRequest, type Receiver } from "./helpers/receiver.ts";
import { createChat, V2 } from "./helpers/v2.ts";

/**
 * Secrets at rest: what a copy of the data directory or the database gives away. Webhook
 * signing secrets are sealed, tokens are keyed hashes, files are private to their owner, and
 * data directories from before all this are converted in place and keep working.
 */

const USER_SECRET = "a-user-given-secret-4471";
const SEALING_MIGRATION = "2026-12-02-0905-secrets-at-rest";

const mode = (path: string) => statSync(path).mode & 0o777;

function verifyV2(request: ReceivedRequest, secret: string): boolean {
  const header = String(request.headers["x-webhook-signature"] ?? "");
  const expected = createHmac("sha256", secret).update(request.body).digest();
  const given = Buffer.from(header.replace(/^sha256=/, ""), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function subscribe(t: TestApp, receiver: Receiver, secret?: string): Promise<{ id: number; secret: string }> {
  const res = await t.request("POST", `${V2}/webhook_subscriptions`, {
    body: {
      webhook_subscription: {
        webhook_url: `${receiver.url}/hooks`,
        version: 2,
        events: ["message.sent"],
        ...(secret ? { secret } : {}),
      },
    },
  });
  assert.equal(res.status, 201, res.raw);
  return res.body.webhook_subscription;
}

/** Every byte SQLite keeps for the database: the file and its write-ahead log. */
function sqliteBytes(dataDir: string): Buffer {
  const file = join(dataDir, "openlinq.db");
  return Buffer.concat([readFileSync(file), existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
}

/** The stored subscription and token columns, as a dump of the database would show them. */
async function storedColumns(app: OpenLinq): Promise<string> {
  const db = app.storage.db;
  const subscriptions = await sql`select * from webhook_subscriptions`.execute(db);
  const tokens = await sql`select * from api_tokens`.execute(db);
  return JSON.stringify([subscriptions.rows, tokens.rows]);
}

const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

for (const dialect of DIALECTS) {
  describe(`secrets at rest (${dialect})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    const receiver = async () => {
      const r = await startReceiver();
      cleanups.push(() => r.close());
      return r;
    };

    it("the data directory is 0700; the database, its log and the key file are 0600", { skip: dialect !== "sqlite" }, async () => {
      const t = await startTestApp(dialect);
      cleanups.push(() => t.close());
      await createChat(t, ["+15550000401"]);
      assert.equal(mode(t.dataDir), 0o700);
      assert.equal(mode(join(t.dataDir, "secret.key")), 0o600);
      for (const file of ["openlinq.db", "openlinq.db-wal", "openlinq.db-shm"]) {
        assert.equal(mode(join(t.dataDir, file)), 0o600, file);
      }
    });

    it("the database holds neither a webhook secret nor a token, nor the token's plain SHA-256", async () => {
      const t = await startTestApp(dialect);
      cleanups.push(() => t.close());
      const generated = await subscribe(t, await receiver());
      await subscribe(t, await receiver(), USER_SECRET);
      const stored = await storedColumns(t.openlinq);
      for (const secret of [generated.secret, USER_SECRET, TEST_TOKEN, sha256Hex(TEST_TOKEN)]) {
        assert.ok(!stored.includes(secret), `stored rows contain ${secret}`);
      }
      if (dialect === "sqlite") {
        const bytes = sqliteBytes(t.dataDir);
        for (const secret of [generated.secret, USER_SECRET, TEST_TOKEN, sha256Hex(TEST_TOKEN)]) {
          assert.equal(bytes.indexOf(secret), -1, `the database file contains ${secret}`);
        }
      }
      // What the core reads back is the secret as created.
      const opened = await t.openlinq.deps.store.read.webhookSubscriptions.list(t.openlinq.bootstrap.organization.id);
      assert.deepEqual(opened.map((s) => s.secret).sort(), [generated.secret, USER_SECRET].sort());
    });

    it("a data directory from before sealing is converted in place: token still valid, signatures still verify", async () => {
      // A data directory as the previous version left it: migrated up to the migration before
      // sealing, a plaintext secret, a SHA-256 token, no key file, world-readable files.
      const dataDir = mkdtempSync(join(tmpdir(), "openlinq-old-"));
      const schema = `test_${randomBytes(6).toString("hex")}`;
      const storageConfig =
        dialect === "postgres"
          ? ({ kind: "postgres", url: process.env.TEST_DATABASE_URL!, schema } as const)
          : ({ kind: "sqlite", file: join(dataDir, "openlinq.db") } as const);
      cleanups.push(async () => {
        rmSync(dataDir, { recursive: true, force: true });
        if (dialect === "postgres") await dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
      });
      const hooks = await receiver();
      const storage = openStorage(storageConfig);
      try {
        const db = storage.db as unknown as Kysely<any>;
        if (dialect === "postgres") await sql`create schema ${sql.id(schema)}`.execute(db);
        const names = Object.keys(await migrationProvider(dialect).getMigrations()).sort();
        const before = names[names.indexOf(SEALING_MIGRATION) - 1]!;
        const migrated = await new Migrator({
          db,
          provider: migrationProvider(dialect),
          ...(dialect === "postgres" ? { migrationTableSchema: schema } : {}),
        }).migrateTo(before);
        if (migrated.error) throw migrated.error;
        const at = new Date().toISOString();
        const org = await db.insertInto("organizations").values({ name: "Old org", created_at: at }).returning("id").executeTakeFirstOrThrow();
        await db
          .insertInto("users")
          .values({ org_id: org.id, email: "admin@openlinq.local", first_name: "openlinq", last_name: "Admin", role: "admin", created_at: at })
          .execute();
        await db
          .insertInto("api_tokens")
          .values({ org_id: org.id, token_hash: sha256Hex(TEST_TOKEN), label: "OPENLINQ_TOKEN", created_at: at })
          .execute();
        await db
          .insertInto("webhook_subscriptions")
          .values({
            uuid: randomUUID(),
            org_id: org.id,
            webhook_url: `${hooks.url}/hooks`,
            version: 2,
            events: JSON.stringify(["message.sent"]),
            active: 1,
            secret: USER_SECRET,
            delivery_attempts: 0,
            created_at: at,
            updated_at: at,
          })
          .execute();
      } finally {
        await storage.destroy();
      }
      chmodSync(dataDir, 0o755);
      if (dialect === "sqlite") chmodSync(join(dataDir, "openlinq.db"), 0o644);

      const config = loadConfig(
        {},
        {
          DATA_DIR: dataDir,
          TOKEN: TEST_TOKEN,
          LOG_LEVEL: "silent",
          PORT: "0",
          ...(dialect === "postgres" ? { DATABASE_URL: process.env.TEST_DATABASE_URL!, DATABASE_SCHEMA: schema } : {}),
        },
      );
      const app = await buildApp(config);
      cleanups.push(() => app.close());
      assert.equal(mode(dataDir), 0o700);
      assert.equal(mode(join(dataDir, "secret.key")), 0o600);
      if (dialect === "sqlite") assert.equal(mode(join(dataDir, "openlinq.db")), 0o600);
      const stored = await storedColumns(app);
      assert.ok(!stored.includes(USER_SECRET), "the plaintext secret was sealed");
      assert.ok(!stored.includes(sha256Hex(TEST_TOKEN)), "the SHA-256 token hash was rekeyed");

      // The token of the old data directory still signs in; the old secret still signs.
      const headers = { "x-linq-integration-token": TEST_TOKEN, "content-type": "application/json" };
      const listed = await app.http.inject({ method: "GET", url: `${V2}/webhook_subscriptions`, headers });
      assert.equal(listed.statusCode, 200, listed.body);
      const chat = await app.http.inject({
        method: "POST",
        url: `${V2}/chats`,
        headers,
        payload: JSON.stringify({ send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550000402"] }, message: { text: "after the upgrade" } }),
      });
      assert.equal(chat.statusCode, 200, chat.body);
      await hooks.waitFor((requests) => requests.length >= 1, 20_000);
      assert.ok(verifyV2(hooks.requests[0]!, USER_SECRET), "the signature verifies with the secret set before the upgrade");
    });

    it("a process with another key than the one the database was sealed with refuses to start", async () => {
      const t = await startTestApp(dialect);
      cleanups.push(() => t.close());
      await assert.rejects(
        startTestApp(dialect, { nodeOf: t, config: { SECRET_KEY: randomBytes(32).toString("base64") } }),
        /sealed with another key/,
      );
      // The database was not touched: the first process keeps working.
      assert.equal((await t.request("GET", `${V2}/webhook_subscriptions`)).status, 200);
    });

    it("an OPENLINQ_SECRET_KEY that is not 32 bytes is a configuration error", () => {
      assert.throws(() => loadConfig({}, { SECRET_KEY: "too-short" }), /OPENLINQ_SECRET_KEY must be 32 bytes/);
      assert.ok(loadConfig({}, { SECRET_KEY: randomBytes(32).toString("hex") }).secretKey);
    });
  });
}

describe("several nodes with their own data directories on one Postgres", { skip: !DIALECTS.includes("postgres") && "TEST_DATABASE_URL not set" }, () => {
  it("share one OPENLINQ_SECRET_KEY: a secret sealed on one node opens on the other", async () => {
    const key = randomBytes(32).toString("base64");
    const a = await startTestApp("postgres", { config: { SECRET_KEY: key } });
    const otherDir = mkdtempSync(join(tmpdir(), "openlinq-node-b-"));
    const thirdDir = mkdtempSync(join(tmpdir(), "openlinq-node-c-"));
    let b: OpenLinq | undefined;
    try {
      const hooks = await startReceiver();
      try {
        await subscribe(a, hooks, USER_SECRET);
        const config = (dir: string, secretKey: string) =>
          loadConfig(
            {},
            {
              DATA_DIR: dir,
              DATABASE_URL: process.env.TEST_DATABASE_URL!,
              DATABASE_SCHEMA: a.schema,
              TOKEN: TEST_TOKEN,
              LOG_LEVEL: "silent",
              PORT: "0",
              SECRET_KEY: secretKey,
            },
          );
        b = await buildApp(config(otherDir, key));
        const listed = await b.http.inject({ method: "GET", url: `${V2}/webhook_subscriptions`, headers: { "x-linq-integration-token": TEST_TOKEN } });
        assert.equal(listed.statusCode, 200, listed.body);
        const [opened] = await b.deps.store.read.webhookSubscriptions.list(a.openlinq.bootstrap.organization.id);
        assert.equal(opened?.secret, USER_SECRET);
        // Without the key, a node with a data directory of its own would make a key file of its own.
        await assert.rejects(buildApp(config(thirdDir, "")), /Every node on one database needs the same key/);
      } finally {
        await hooks.close();
      }
    } finally {
      await b?.close();
      await a.close();
      rmSync(otherDir, { recursive: true, force: true });
      rmSync(thirdDir, { recursive: true, force: true });
    }
  });
});
