import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Carrier events already applied, by the carrier's id for them: a carrier (the simulated one
 * included) may report the same event twice, and core applies each once.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema
    .createTable("carrier_events")
    .addColumn("org_id", "integer", (c) => c.notNull())
    .addColumn("carrier_event_id", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("carrier_events_pk", ["org_id", "carrier_event_id"])
    .execute();
}
