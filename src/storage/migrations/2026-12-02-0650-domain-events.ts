import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Events are stored as domain events; each delivery carries the bytes its subscription's face
 * rendered at fan-out, and that face's name of the event type. Rows written before keep their
 * V2 envelope in events.payload (payload_format 'v2-envelope') and no delivery body: their
 * deliveries send the envelope, as they always did.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema
    .alterTable("events")
    .addColumn("payload_format", "text", (c) => c.notNull().defaultTo("v2-envelope"))
    .execute();
  await db.schema.alterTable("webhook_deliveries").addColumn("event_type", "text").execute();
  await db.schema.alterTable("webhook_deliveries").addColumn("body", "text").execute();
}
