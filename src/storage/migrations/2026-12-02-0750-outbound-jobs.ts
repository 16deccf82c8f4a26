import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Outbound work as a durable queue (sends to the carrier, our side's signals, and the
 * simulated carrier's own schedule: deliveries, reads, replies), the carrier's id on each
 * message we sent, and the simulated carrier's memory of what it accepted.
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  const table = (name: string) =>
    dialect === "postgres"
      ? db.schema.createTable(name).addColumn("id", "serial", (c) => c.primaryKey())
      : db.schema.createTable(name).addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());

  await table("outbound_jobs")
    .addColumn("org_id", "integer", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("run_at", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("claimed_by", "text")
    .addColumn("claimed_until", "text")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  // The claim scans unclaimed rows in due order; finished jobs are deleted, so the table stays small.
  await db.schema.createIndex("outbound_jobs_due").on("outbound_jobs").columns(["run_at", "id"]).execute();
  await db.schema.createIndex("outbound_jobs_claimed").on("outbound_jobs").column("claimed_until").execute();
  await db.schema.createIndex("outbound_jobs_org").on("outbound_jobs").column("org_id").execute();

  await db.schema.alterTable("messages").addColumn("carrier_message_id", "text").execute();
  await db.schema
    .createIndex("messages_org_carrier_id")
    .unique()
    .on("messages")
    .columns(["org_id", "carrier_message_id"])
    .execute();

  await db.schema
    .createTable("simulator_sends")
    .addColumn("message_id", "integer", (c) => c.primaryKey())
    .addColumn("org_id", "integer", (c) => c.notNull())
    .addColumn("carrier_message_id", "text", (c) => c.notNull().unique())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("delivered_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("simulator_sends_org").on("simulator_sends").column("org_id").execute();
}
