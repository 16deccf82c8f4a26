import { sql, type Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 *
 * V3 addresses chats, messages, chat handles, phone numbers and webhook subscriptions by
 * UUID, V2 by their integer ids. Every row gets a stable `uuid` next to its id (existing rows
 * are backfilled here), unique per table.
 *
 * Messages also get the V3 shape: ordered `parts` (JSON; null means the V2 shape — the text,
 * then the attachments in position order), a message-level `effect` (JSON), the message they
 * reply to (`reply_to_uuid`, `reply_to_part_index`) and the `preferred_service` the sender asked for.
 * Reactions attach to a part (`part_index`) and may be a custom emoji; group chats may have an icon.
 */
const UUID_TABLES = ["phone_numbers", "chats", "chat_handles", "messages", "webhook_subscriptions"] as const;

/** A random (version 4) UUID per row, computed by the database itself. */
function randomUuidExpression(dialect: MigrationDialect) {
  if (dialect === "postgres") return sql<string>`gen_random_uuid()::text`;
  return sql<string>`lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
    substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||
    substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))`;
}

export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  for (const table of UUID_TABLES) {
    await db.schema.alterTable(table).addColumn("uuid", "text").execute();
    await db.updateTable(table).set({ uuid: randomUuidExpression(dialect) }).execute();
    if (dialect === "postgres") {
      await db.schema.alterTable(table).alterColumn("uuid", (c) => c.setNotNull()).execute();
    }
    await db.schema.createIndex(`${table}_uuid_key`).on(table).column("uuid").unique().execute();
  }
  await db.schema.alterTable("messages").addColumn("parts", "text").execute();
  await db.schema.alterTable("messages").addColumn("effect", "text").execute();
  await db.schema.alterTable("messages").addColumn("reply_to_uuid", "text").execute();
  await db.schema.alterTable("messages").addColumn("reply_to_part_index", "integer").execute();
  await db.schema.alterTable("messages").addColumn("preferred_service", "text").execute();
  await db.schema.createIndex("messages_reply_to_uuid_idx").on("messages").column("reply_to_uuid").execute();
  await db.schema.alterTable("reactions").addColumn("part_index", "integer", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("reactions").addColumn("custom_emoji", "text").execute();
  await db.schema.alterTable("chats").addColumn("group_chat_icon", "text").execute();
}
