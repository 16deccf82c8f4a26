import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Delivery-side scenarios (src/core/scenarios): what an organization armed for a chat or a
 * message, and what each did once applied. Events and deliveries name the scenario that
 * made or shaped them, so the delivery log shows what was injected.
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  const table = (name: string) =>
    dialect === "postgres"
      ? db.schema.createTable(name).addColumn("id", "serial", (c) => c.primaryKey())
      : db.schema.createTable(name).addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());

  await table("delivery_scenarios")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("chat_id", "integer", (c) => c.notNull())
    .addColumn("message_id", "integer")
    .addColumn("code", "integer")
    .addColumn("delay_ms", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("event_ids", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("applied_at", "text")
    .execute();
  await db.schema.createIndex("delivery_scenarios_org").on("delivery_scenarios").columns(["org_id", "id"]).execute();
  await db.schema
    .createIndex("delivery_scenarios_chat_status")
    .on("delivery_scenarios")
    .columns(["chat_id", "status"])
    .execute();
  await db.schema.alterTable("events").addColumn("scenario_id", "integer").execute();
  await db.schema.alterTable("webhook_deliveries").addColumn("scenario_id", "integer").execute();
}
