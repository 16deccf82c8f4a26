import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * The simulated recipient network: device profiles, what devices show, and calls.
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  const table = (name: string) =>
    dialect === "postgres"
      ? db.schema.createTable(name).addColumn("id", "serial", (c) => c.primaryKey())
      : db.schema.createTable(name).addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());

  await table("handle_profiles")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("handle", "text", (c) => c.notNull())
    .addColumn("service", "text", (c) => c.notNull())
    .addColumn("reachable", "integer", (c) => c.notNull())
    .addColumn("latency_ms", "integer", (c) => c.notNull())
    .addColumn("jitter_ms", "integer", (c) => c.notNull())
    .addColumn("read_after_ms", "integer")
    .addColumn("auto_reply", "text", (c) => c.notNull())
    .addColumn("auto_reaction", "text")
    .addColumn("script_position", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("handle_profiles_org_handle")
    .unique()
    .on("handle_profiles")
    .columns(["org_id", "handle"])
    .execute();

  await table("device_signals")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("chat_id", "integer", (c) => c.notNull().references("chats.id").onDelete("cascade"))
    .addColumn("handle", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("detail", "text")
    .execute();
  await db.schema
    .createIndex("device_signals_chat_handle_kind")
    .unique()
    .on("device_signals")
    .columns(["chat_id", "handle", "kind"])
    .execute();
  await db.schema.createIndex("device_signals_org_handle").on("device_signals").columns(["org_id", "handle"]).execute();

  await table("calls")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("phone_number_id", "integer", (c) => c.notNull().references("phone_numbers.id"))
    .addColumn("direction", "text", (c) => c.notNull())
    .addColumn("from_handle", "text", (c) => c.notNull())
    .addColumn("to_handle", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("ended_at", "text", (c) => c.notNull())
    .addColumn("duration_seconds", "integer", (c) => c.notNull())
    .addColumn("answered_by", "text")
    .addColumn("forwarded_from", "text")
    .addColumn("voicemail", "integer", (c) => c.notNull())
    .addColumn("recording", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("calls_org").on("calls").columns(["org_id", "id"]).execute();
}
