import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Fault injection: faults an organization asked for on its own API, and every time one fired
 * (kept after the fault is deleted, so a test can still assert what was injected).
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  const table = (name: string) =>
    dialect === "postgres"
      ? db.schema.createTable(name).addColumn("id", "serial", (c) => c.primaryKey())
      : db.schema.createTable(name).addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());

  await table("api_faults")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("token_id", "integer")
    .addColumn("status", "integer")
    .addColumn("retry_after", "integer")
    .addColumn("latency_ms", "integer", (c) => c.notNull())
    .addColumn("count", "integer")
    .addColumn("fraction", dialect === "postgres" ? "double precision" : "real", (c) => c.notNull())
    .addColumn("matched", "integer", (c) => c.notNull())
    .addColumn("hits", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("api_faults_org").on("api_faults").column("org_id").execute();

  await table("api_fault_hits")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("fault_id", "integer", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("status", "integer")
    .addColumn("latency_ms", "integer", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("api_fault_hits_org").on("api_fault_hits").columns(["org_id", "id"]).execute();
}
