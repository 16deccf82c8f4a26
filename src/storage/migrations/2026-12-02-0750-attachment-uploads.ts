import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 *
 * Files uploaded before any message uses them (V3 presigned uploads): the upload is announced
 * (pending), its bytes arrive at a one-time URL within its expiry (complete), and messages then
 * refer to it by id. Contact cards: the name and photo a line shares in chats.
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  await db.schema
    .createTable("attachment_uploads")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("filename", "text", (c) => c.notNull())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("size_bytes", dialect === "postgres" ? "bigint" : "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    /** sha256 hex of the secret in the upload URL. */
    .addColumn("upload_secret_hash", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("attachment_uploads_org").on("attachment_uploads").column("org_id").execute();

  const table = dialect === "postgres"
    ? db.schema.createTable("contact_cards").addColumn("id", "serial", (c) => c.primaryKey())
    : db.schema.createTable("contact_cards").addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
  await table
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("phone_number_id", "integer", (c) => c.notNull().unique().references("phone_numbers.id"))
    .addColumn("first_name", "text", (c) => c.notNull())
    .addColumn("last_name", "text")
    .addColumn("image_url", "text")
    .addColumn("is_active", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}
