import { sql, type Expression, type Kysely, type SqlBool } from "kysely";
import type { Message } from "../core/model.ts";
import type { InboxRepository } from "../core/ports.ts";
import { chatRowToChat, messageRowToMessage, stamp } from "./mappers.ts";
import type { Database } from "./schema.ts";
import { compiledPerVariant } from "./compiled-once.ts";

/**
 * A chat's messages newest first (V3 pages), compiled once per variant: the page's size (a
 * literal LIMIT, see messaging.repository.ts), with a keyset bound (` before`) or without.
 */
const threadPage = compiledPerVariant((db, a: { chatId: number; sentAt: string; id: number }, variant: `${number}` | `${number} before`) => {
  let query = db.selectFrom("messages").selectAll().where("chat_id", "=", a.chatId);
  if (variant.endsWith(" before")) {
    // Keyset on (sent_at, id): messages sent in the same millisecond are neither lost nor repeated.
    query = query.where((eb) => eb.or([eb("sent_at", "<", a.sentAt), eb.and([eb("sent_at", "=", a.sentAt), eb("id", "<", a.id)])]));
  }
  return query.orderBy("sent_at", "desc").orderBy("id", "desc").limit(sql.lit(parseInt(variant, 10)));
});

/** `%needle%` for LIKE with `\` escaping %, _ and itself (declared with ESCAPE on both dialects). */
function containsPattern(needle: string): string {
  return `%${needle.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Case-insensitive "column contains needle" that means the same on SQLite and Postgres. */
function contains(column: string, needle: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${containsPattern(needle)} escape '\\'`;
}

/** Read-only queries behind the web inbox (lists the V2 API has no shape for). */
export function inboxRepository(db: Kysely<Database>): InboxRepository {
  return {
    async listChatSummaries(query) {
      let filtered = db.selectFrom("chats").where("chats.org_id", "=", query.orgId);
      if (query.phoneNumberId !== undefined) filtered = filtered.where("chats.phone_number_id", "=", query.phoneNumberId);
      const search = query.search?.trim();
      if (search) {
        // Numbers are stored as E.164; people type them with punctuation, so digits match too.
        const digits = search.replace(/\D/g, "");
        filtered = filtered.where((eb) =>
          eb.or([
            contains("chats.display_name", search),
            contains("chats.participants_key", search),
            ...(digits.length >= 3 ? [contains("chats.participants_key", digits)] : []),
            eb.exists(
              eb
                .selectFrom("messages")
                .select("messages.id")
                .whereRef("messages.chat_id", "=", "chats.id")
                .where(contains("messages.text", search)),
            ),
          ]),
        );
      }
      const [rows, count] = await Promise.all([
        filtered
          .selectAll("chats")
          .select((eb) => [
            eb
              .selectFrom("messages")
              .select((inner) => inner.fn.countAll<number>().as("n"))
              .whereRef("messages.chat_id", "=", "chats.id")
              .where("messages.is_from_me", "=", 0)
              .where("messages.is_read", "=", 0)
              .as("unread_count"),
            eb
              .selectFrom("messages")
              .select("messages.id")
              .whereRef("messages.chat_id", "=", "chats.id")
              .orderBy("messages.sent_at", "desc")
              .orderBy("messages.id", "desc")
              .limit(1)
              .as("last_message_id"),
          ])
          .orderBy("chats.last_activity_at", "desc")
          .orderBy("chats.id", "desc")
          .limit(query.limit)
          // An offset past what the databases accept (page=1e23) is simply past the end.
          .offset(Number.isSafeInteger(query.offset) ? query.offset : Number.MAX_SAFE_INTEGER)
          .execute(),
        filtered.select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirstOrThrow(),
      ]);
      const lastIds = rows.map((r) => r.last_message_id).filter((id): id is number => id !== null);
      const lastMessages = new Map<number, Message>();
      if (lastIds.length > 0) {
        const messageRows = await db.selectFrom("messages").selectAll().where("id", "in", lastIds).execute();
        for (const row of messageRows) lastMessages.set(row.id, messageRowToMessage(row));
      }
      return {
        items: rows.map((row) => {
          const { unread_count, last_message_id, ...chatRow } = row;
          return {
            chat: chatRowToChat(chatRow),
            unreadCount: Number(unread_count ?? 0),
            lastMessage: last_message_id === null ? null : (lastMessages.get(Number(last_message_id)) ?? null),
          };
        }),
        total: Number(count.count),
      };
    },

    async listThreadPage(chatId, limit, before) {
      const { rows } = await threadPage(db, before ? `${limit} before` : `${limit}`, {
        chatId,
        sentAt: before ? stamp(before.sentAt) : "",
        id: before?.id ?? 0,
      });
      return rows.map(messageRowToMessage);
    },
  };
}
