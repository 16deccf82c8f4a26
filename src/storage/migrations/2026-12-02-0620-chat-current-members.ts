import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * A chat's participants_key now follows its current members (it used to keep the set the
 * chat was created with), so create and find reach a group by who is in it now. Rekeys
 * the groups whose members changed; a group whose new set another chat of the line
 * already holds gets a key that matches nothing (the holder keeps being found). Indexes
 * chat_handles by handle for listing the chats a participant takes part in.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema.createIndex("chat_handles_handle").on("chat_handles").columns(["handle", "chat_id"]).execute();

  const groups: { id: number; phone_number_id: number; participants_key: string }[] = await db
    .selectFrom("chats")
    .select(["id", "phone_number_id", "participants_key"])
    .where("is_group", "=", 1)
    .orderBy("id")
    .execute();
  if (groups.length === 0) return;
  const members: { chat_id: number; handle: string }[] = await db
    .selectFrom("chat_handles")
    .innerJoin("chats", "chats.id", "chat_handles.chat_id")
    .select(["chat_handles.chat_id as chat_id", "chat_handles.handle as handle"])
    .where("chats.is_group", "=", 1)
    .where("chat_handles.is_me", "=", 0)
    .where("chat_handles.left_at", "is", null)
    .execute();
  const current = new Map<number, Set<string>>();
  for (const { chat_id, handle } of members) {
    const set = current.get(chat_id) ?? new Set<string>();
    set.add(handle);
    current.set(chat_id, set);
  }
  for (const group of groups) {
    const key = [...(current.get(group.id) ?? [])].sort().join(",");
    if (key === "" || key === group.participants_key) continue;
    const holder = await db
      .selectFrom("chats")
      .select("id")
      .where("phone_number_id", "=", group.phone_number_id)
      .where("participants_key", "=", key)
      .executeTakeFirst();
    await db
      .updateTable("chats")
      .set({ participants_key: holder ? `${key} (chat ${group.id})` : key })
      .where("id", "=", group.id)
      .execute();
  }
}
