import type { Kysely } from "kysely";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Attachments keep the order they were sent in: ids are random UUIDs and every attachment
 * of a message shares one created_at, so neither can order them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("attachments")
    .addColumn("position", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}
