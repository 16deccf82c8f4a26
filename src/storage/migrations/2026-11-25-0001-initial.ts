import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Uses Kysely<any> and nothing from the application, so later code changes cannot alter it.
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  const table = (name: string) =>
    dialect === "postgres"
      ? db.schema.createTable(name).addColumn("id", "serial", (c) => c.primaryKey())
      : db.schema.createTable(name).addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());

  await table("organizations")
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await table("users")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("first_name", "text", (c) => c.notNull())
    .addColumn("last_name", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("users_org_email").unique().on("users").columns(["org_id", "email"]).execute();

  await table("api_tokens")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await table("phone_numbers")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("user_id", "integer", (c) => c.notNull().references("users.id"))
    .addColumn("phone_number", "text", (c) => c.notNull().unique())
    .addColumn("forwarding_number", "text")
    .addColumn("response_rate", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("phone_numbers_org").on("phone_numbers").column("org_id").execute();

  await table("chats")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("phone_number_id", "integer", (c) => c.notNull().references("phone_numbers.id"))
    .addColumn("display_name", "text")
    .addColumn("service", "text", (c) => c.notNull())
    .addColumn("is_group", "integer", (c) => c.notNull())
    .addColumn("participants_key", "text", (c) => c.notNull())
    .addColumn("message_count", "integer", (c) => c.notNull())
    .addColumn("last_activity_at", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  // One chat per (our number, participant set): makes find-or-create race-free.
  await db.schema
    .createIndex("chats_sender_participants")
    .unique()
    .on("chats")
    .columns(["phone_number_id", "participants_key"])
    .execute();
  await db.schema
    .createIndex("chats_sender_activity")
    .on("chats")
    .columns(["phone_number_id", "last_activity_at", "id"])
    .execute();
  await db.schema.createIndex("chats_org_activity").on("chats").columns(["org_id", "last_activity_at"]).execute();

  await table("chat_handles")
    .addColumn("chat_id", "integer", (c) => c.notNull().references("chats.id").onDelete("cascade"))
    .addColumn("handle", "text", (c) => c.notNull())
    .addColumn("service", "text", (c) => c.notNull())
    .addColumn("is_me", "integer", (c) => c.notNull())
    .addColumn("joined_at", "text", (c) => c.notNull())
    .addColumn("left_at", "text")
    .execute();
  await db.schema.createIndex("chat_handles_chat").on("chat_handles").columns(["chat_id", "handle"]).execute();

  await table("messages")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("chat_id", "integer", (c) => c.notNull().references("chats.id").onDelete("cascade"))
    .addColumn("chat_handle_id", "integer", (c) => c.notNull().references("chat_handles.id"))
    .addColumn("is_from_me", "integer", (c) => c.notNull())
    .addColumn("text", "text", (c) => c.notNull())
    .addColumn("sent_at", "text", (c) => c.notNull())
    .addColumn("delivered_at", "text")
    .addColumn("delivery_status", "text", (c) => c.notNull())
    .addColumn("edited_at", "text")
    .addColumn("is_read", "integer", (c) => c.notNull())
    .addColumn("read_at", "text")
    .addColumn("idempotency_key", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("messages_chat_sent").on("messages").columns(["chat_id", "sent_at", "id"]).execute();
  // Idempotency keys are unique per organization; NULLs do not collide on either dialect.
  await db.schema
    .createIndex("messages_org_idempotency")
    .unique()
    .on("messages")
    .columns(["org_id", "idempotency_key"])
    .execute();

  await db.schema
    .createTable("attachments")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("message_id", "integer", (c) => c.notNull().references("messages.id").onDelete("cascade"))
    .addColumn("filename", "text", (c) => c.notNull())
    .addColumn("mime_type", "text", (c) => c.notNull())
    .addColumn("file_size", "integer", (c) => c.notNull())
    .addColumn("storage_key", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("attachments_message").on("attachments").column("message_id").execute();

  await table("reactions")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("message_id", "integer", (c) => c.notNull().references("messages.id").onDelete("cascade"))
    .addColumn("chat_handle_id", "integer", (c) => c.notNull().references("chat_handles.id"))
    .addColumn("reaction", "text", (c) => c.notNull())
    .addColumn("is_from_me", "integer", (c) => c.notNull())
    .addColumn("from_phone", "text", (c) => c.notNull())
    .addColumn("sent_at", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("reactions_message").on("reactions").column("message_id").execute();

  await table("contacts")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("owner_user_id", "integer", (c) => c.references("users.id"))
    .addColumn("first_name", "text", (c) => c.notNull())
    .addColumn("last_name", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("phone_number", "text", (c) => c.notNull())
    .addColumn("company", "text", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("location", "text", (c) => c.notNull())
    .addColumn("image_url", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("contacts_org_id").on("contacts").columns(["org_id", "id"]).execute();
  await db.schema.createIndex("contacts_org_email").on("contacts").columns(["org_id", "email"]).execute();
  await db.schema.createIndex("contacts_org_phone").on("contacts").columns(["org_id", "phone_number"]).execute();

  await table("webhook_subscriptions")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("webhook_url", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("events", "text", (c) => c.notNull())
    .addColumn("active", "integer", (c) => c.notNull())
    .addColumn("secret", "text")
    .addColumn("delivery_attempts", "integer", (c) => c.notNull())
    .addColumn("last_delivered_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("webhook_subscriptions_org").on("webhook_subscriptions").column("org_id").execute();

  await db.schema
    .createTable("events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("chat_id", "integer")
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("events_org_created").on("events").columns(["org_id", "created_at"]).execute();

  await table("webhook_deliveries")
    .addColumn("org_id", "integer", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull().references("events.id").onDelete("cascade"))
    .addColumn("subscription_id", "integer", (c) =>
      c.notNull().references("webhook_subscriptions.id").onDelete("cascade"),
    )
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempt_count", "integer", (c) => c.notNull())
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("claimed_until", "text")
    .addColumn("claimed_by", "text")
    .addColumn("last_response_status", "integer")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_due")
    .on("webhook_deliveries")
    .columns(["status", "next_attempt_at"])
    .execute();
  await db.schema.createIndex("webhook_deliveries_event").on("webhook_deliveries").column("event_id").execute();

  await table("webhook_attempts")
    .addColumn("delivery_id", "integer", (c) =>
      c.notNull().references("webhook_deliveries.id").onDelete("cascade"),
    )
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("subscription_id", "integer", (c) => c.notNull())
    .addColumn("attempt_number", "integer", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("request_headers", "text", (c) => c.notNull())
    .addColumn("request_body", "text", (c) => c.notNull())
    .addColumn("response_status", "integer")
    .addColumn("response_headers", "text")
    .addColumn("response_body", "text")
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("attempted_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("webhook_attempts_event").on("webhook_attempts").columns(["event_id", "id"]).execute();
}
