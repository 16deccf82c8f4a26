import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 *
 * Subscriptions can be limited to some of the org's lines (`phone_numbers`, a JSON array of
 * E.164 numbers; null = every line). Lines get a status and a reputation, whose changes are
 * announced to subscribers: ACTIVE or FLAGGED, and HEALTHY, AT_RISK or CRITICAL.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema.alterTable("webhook_subscriptions").addColumn("phone_numbers", "text").execute();
  await db.schema
    .alterTable("phone_numbers")
    .addColumn("status", "text", (c) => c.notNull().defaultTo("ACTIVE"))
    .execute();
  await db.schema
    .alterTable("phone_numbers")
    .addColumn("reputation", "text", (c) => c.notNull().defaultTo("HEALTHY"))
    .execute();
}
