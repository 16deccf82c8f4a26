import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Migrator, sql, type Kysely } from "kysely";
import { dropPostgresSchema, openStorage, type StorageHandle } from "../src/storage/database.ts";
import { migrationProvider } from "../src/storage/migrations/index.ts";
import { createStore } from "../src/storage/store.ts";
import { createSecretBox } from "../src/storage/secret-box.ts";
import { messageParts, textOfParts } from "../src/core/messages/parts.ts";
import { DIALECTS } from "./helpers/app.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const LAST_BEFORE_UUIDS = "2026-11-26-0003-webhook-delivery-indexes";
const NOW = "2026-12-01T10:00:00.000Z";

/** Rows as a database of the previous release holds them (no uuid columns yet). */
async function insertOldRows(db: Kysely<any>): Promise<void> {
  await db.insertInto("organizations").values({ name: "Old org", created_at: NOW }).execute();
  await db
    .insertInto("users")
    .values({ org_id: 1, email: "a@example.com", first_name: "A", last_name: "B", role: "admin", created_at: NOW })
    .execute();
  await db
    .insertInto("phone_numbers")
    .values([1, 2].map((n) => ({
      org_id: 1,
      user_id: 1,
      phone_number: `+1555000000${n}`,
      forwarding_number: null,
      response_rate: 75,
      created_at: NOW,
      updated_at: NOW,
    })))
    .execute();
  await db
    .insertInto("chats")
    .values({
      org_id: 1,
      phone_number_id: 1,
      display_name: null,
      service: "iMessage",
      is_group: 0,
      participants_key: "+15557770000",
      message_count: 2,
      last_activity_at: NOW,
      created_at: NOW,
      updated_at: NOW,
    })
    .execute();
  await db
    .insertInto("chat_handles")
    .values(["+15550000001", "+15557770000"].map((handle, i) => ({
      chat_id: 1,
      handle,
      service: "iMessage",
      is_me: i === 0 ? 1 : 0,
      joined_at: NOW,
      left_at: null,
    })))
    .execute();
  await db
    .insertInto("messages")
    .values(["Hello there", ""].map((text) => ({
      org_id: 1,
      chat_id: 1,
      chat_handle_id: 1,
      is_from_me: 1,
      text,
      sent_at: NOW,
      delivered_at: null,
      delivery_status: "delivered",
      edited_at: null,
      is_read: 0,
      read_at: null,
      idempotency_key: null,
      created_at: NOW,
    })))
    .execute();
  await db
    .insertInto("attachments")
    .values({
      id: "6f1d1c36-0a4b-4d7e-9a0e-2b7c1f9d8e11",
      org_id: 1,
      message_id: 2,
      filename: "a.jpg",
      mime_type: "image/jpeg",
      file_size: 3,
      storage_key: "x/a.jpg",
      created_at: NOW,
    })
    .execute();
  await db
    .insertInto("webhook_subscriptions")
    .values({
      org_id: 1,
      webhook_url: "https://example.com/hook",
      version: 2,
      events: "[]",
      active: 1,
      secret: null,
      delivery_attempts: 0,
      last_delivered_at: null,
      created_at: NOW,
      updated_at: NOW,
    })
    .execute();
}

for (const dialect of DIALECTS) {
  describe(`V3 ids on existing rows (${dialect})`, () => {
    let storage: StorageHandle;
    let cleanup: () => Promise<void>;

    before(async () => {
      if (dialect === "sqlite") {
        const dir = mkdtempSync(join(tmpdir(), "openlinq-ids-"));
        storage = openStorage({ kind: "sqlite", file: join(dir, "db.sqlite") });
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        const schema = `ids_${randomBytes(5).toString("hex")}`;
        storage = openStorage({ kind: "postgres", url: process.env.TEST_DATABASE_URL!, schema });
        await sql`create schema ${sql.id(schema)}`.execute(storage.db);
        cleanup = () => dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
      }
      const migrator = new Migrator({
        db: storage.db,
        provider: migrationProvider(storage.dialect),
        ...(dialect === "postgres" ? { migrationTableSchema: (await currentSchema(storage.db)) } : {}),
      });
      const { error } = await migrator.migrateTo(LAST_BEFORE_UUIDS);
      if (error) throw error;
      await insertOldRows(storage.db);
      await storage.migrate();
    });
    after(async () => {
      await storage.destroy();
      await cleanup();
    });

    it("gives every existing row a distinct random UUID, reachable through the repositories", async () => {
      const store = createStore(storage.db, { secrets: createSecretBox(randomBytes(32)) });
      const seen = new Set<string>();
      for (const table of ["phone_numbers", "chats", "chat_handles", "messages", "webhook_subscriptions"] as const) {
        const rows = await storage.db.selectFrom(table).select(["id", "uuid"]).execute();
        assert.ok(rows.length > 0);
        for (const row of rows) {
          assert.match(row.uuid, UUID_V4, `${table} ${row.id}`);
          assert.ok(!seen.has(row.uuid), "unique across rows");
          seen.add(row.uuid);
        }
      }
      const chatRow = await storage.db.selectFrom("chats").select("uuid").executeTakeFirstOrThrow();
      assert.equal((await store.read.chats.findByUuid(1, chatRow.uuid))?.id, 1);
      assert.equal(await store.read.chats.findByUuid(2, chatRow.uuid), undefined, "scoped to the organization");
      assert.equal(await store.read.chats.findByUuid(1, "not-a-uuid"), undefined);
      const messageRow = await storage.db.selectFrom("messages").select("uuid").where("id", "=", 1).executeTakeFirstOrThrow();
      assert.equal((await store.read.messages.findByUuid(1, messageRow.uuid))?.text, "Hello there");
      const numberRow = await storage.db.selectFrom("phone_numbers").select("uuid").where("id", "=", 2).executeTakeFirstOrThrow();
      assert.equal((await store.read.phoneNumbers.findByUuid(1, numberRow.uuid))?.phoneNumber, "+15550000002");
      const subRow = await storage.db.selectFrom("webhook_subscriptions").select("uuid").executeTakeFirstOrThrow();
      assert.equal((await store.read.webhookSubscriptions.findByUuid(1, subRow.uuid))?.id, 1);
      const handles = (await store.read.chats.handlesFor([1])).get(1)!;
      assert.ok(handles.every((h) => UUID_V4.test(h.uuid)));
    });

    it("reads old messages as parts: the text, then the attachments", async () => {
      const store = createStore(storage.db, { secrets: createSecretBox(randomBytes(32)) });
      const first = (await store.read.messages.findById(1, 1))!;
      const second = (await store.read.messages.findById(1, 2))!;
      const attachments = await store.read.attachments.listForMessages([1, 2]);
      assert.deepEqual(messageParts(first, attachments.get(1) ?? []), [{ type: "text", value: "Hello there" }]);
      assert.deepEqual(messageParts(second, attachments.get(2) ?? []), [
        { type: "media", attachmentId: "6f1d1c36-0a4b-4d7e-9a0e-2b7c1f9d8e11" },
      ]);
      assert.equal(first.effect, null);
      assert.equal(first.replyTo, null);
      assert.equal(first.preferredService, null);
    });

    it("keeps a new message's parts, effect, reply and preferred service", async () => {
      const store = createStore(storage.db, { secrets: createSecretBox(randomBytes(32)) });
      const original = (await store.read.messages.findById(1, 1))!;
      const parts = [
        { type: "text" as const, value: "Look", textDecorations: [{ range: [0, 4] as [number, number], style: "bold" as const }] },
        { type: "link" as const, value: "https://example.com/x" },
      ];
      const created = await store.transaction((tx) =>
        tx.messages.create({
          orgId: 1,
          chatId: 1,
          chatHandleId: 2,
          isFromMe: false,
          text: textOfParts(parts),
          parts,
          effect: { type: "screen", name: "confetti" },
          replyTo: { messageUuid: original.uuid, partIndex: 0 },
          preferredService: "RCS",
          sentAt: new Date(NOW),
          deliveredAt: null,
          deliveryStatus: "delivered",
          editedAt: null,
          isRead: false,
          readAt: null,
          idempotencyKey: null,
        }),
      );
      assert.match(created.uuid, UUID_V4);
      const read = (await store.read.messages.findByUuid(1, created.uuid))!;
      assert.equal(read.text, "Look\nhttps://example.com/x");
      assert.deepEqual(read.parts, parts);
      assert.deepEqual(read.effect, { type: "screen", name: "confetti" });
      assert.deepEqual(read.replyTo, { messageUuid: original.uuid, partIndex: 0 });
      assert.equal(read.preferredService, "RCS");
    });
  });
}

async function currentSchema(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]!.schema;
}
