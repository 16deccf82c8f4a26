import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 *
 * Messages count their edits, so the edit limits (a few edits, soon after sending) hold.
 * Messages edited before this migration start from zero.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema
    .alterTable("messages")
    .addColumn("edit_count", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}
