import { randomUUID } from "node:crypto";
import { sql, type Insertable, type Kysely } from "kysely";
import { DomainError } from "../core/errors.ts";
import type { Attachment, ChatHandle, ChatParticipants, Reaction } from "../core/model.ts";
import type {
  ChatNamed,
  AttachmentRepository,
  ChatRepository,
  MessageRepository,
  ReactionRepository,
} from "../core/ports.ts";
import { isUniqueViolation } from "./database.ts";
import {
  attachmentRowToAttachment,
  chatHandleRowToChatHandle,
  chatRowToChat,
  flag,
  isRowId,
  groupBy,
  isUuid,
  maybeStamp,
  messageRowToMessage,
  pageWindow,
  reactionRowToReaction,
  stamp,
} from "./mappers.ts";
import type { Database, MessageTable } from "./schema.ts";
import { anyOf, compiledOnce, compiledPerVariant } from "./compiled-once.ts";

// The send path's fixed-shape statements, compiled once (see compiled-once.ts).
const findChatById = compiledOnce((db, a: { orgId: number; id: number }) =>
  db.selectFrom("chats").selectAll().where("org_id", "=", a.orgId).where("id", "=", a.id),
);
const recordChatActivity = compiledOnce((db, a: { chatId: number; delta: number; at: string }) =>
  db
    .updateTable("chats")
    .set((eb) => ({ message_count: eb("message_count", "+", a.delta), last_activity_at: a.at, updated_at: a.at }))
    .where("id", "=", a.chatId),
);
/**
 * A chat's row joined with its participants' (one row each, in join order; a chat without
 * any gives one row of nulls for them): loading a chat is one statement, not two.
 */
function chatWithHandlesQuery(db: Kysely<Database>) {
  return db
    .selectFrom("chats")
    .leftJoin("chat_handles", "chat_handles.chat_id", "chats.id")
    .selectAll("chats")
    .select([
      "chat_handles.id as handle_id",
      "chat_handles.uuid as handle_uuid",
      "chat_handles.handle as handle_handle",
      "chat_handles.service as handle_service",
      "chat_handles.is_me as handle_is_me",
      "chat_handles.joined_at as handle_joined_at",
      "chat_handles.left_at as handle_left_at",
    ])
    .orderBy("chat_handles.id");
}
const findChatWithHandlesById = compiledOnce((db, a: { orgId: number; id: number }) =>
  chatWithHandlesQuery(db).where("chats.org_id", "=", a.orgId).where("chats.id", "=", a.id),
);
const findChatWithHandlesByUuid = compiledOnce((db, a: { orgId: number; uuid: string }) =>
  chatWithHandlesQuery(db).where("chats.org_id", "=", a.orgId).where("chats.uuid", "=", a.uuid),
);
/**
 * The same with the org's contacts whose phone number, or else email, is a participant's
 * handle (one row per participant and pair of such contacts; each join is an index lookup
 * on `(org_id, phone_number)` or `(org_id, email)`): a chat as it is shown, in one statement.
 */
function chatWithContactsQuery(db: Kysely<Database>) {
  return chatWithHandlesQuery(db)
    .leftJoin("contacts as by_phone", (join) =>
      join.onRef("by_phone.org_id", "=", "chats.org_id").onRef("by_phone.phone_number", "=", "chat_handles.handle"),
    )
    .leftJoin("contacts as by_email", (join) =>
      join.onRef("by_email.org_id", "=", "chats.org_id").onRef("by_email.email", "=", "chat_handles.handle"),
    )
    .select([
      "by_phone.id as phone_contact_id",
      "by_phone.first_name as phone_contact_first_name",
      "by_phone.last_name as phone_contact_last_name",
      "by_email.id as email_contact_id",
      "by_email.first_name as email_contact_first_name",
      "by_email.last_name as email_contact_last_name",
    ]);
}
const findChatWithContactsById = compiledOnce((db, a: { orgId: number; id: number }) =>
  chatWithContactsQuery(db).where("chats.org_id", "=", a.orgId).where("chats.id", "=", a.id),
);
const findChatWithContactsByUuid = compiledOnce((db, a: { orgId: number; uuid: string }) =>
  chatWithContactsQuery(db).where("chats.org_id", "=", a.orgId).where("chats.uuid", "=", a.uuid),
);
type ChatWithHandlesRow = Awaited<ReturnType<typeof findChatWithHandlesById>>["rows"][number];
type ChatWithContactsRow = Awaited<ReturnType<typeof findChatWithContactsById>>["rows"][number];

/**
 * Each handle's name: that of its first contact (by id) with a name, whether the handle is
 * its phone number or its email, as ContactRepository.namesFor.
 */
function chatWithNamesOf(rows: readonly ChatWithContactsRow[]): ChatNamed | undefined {
  const loaded = chatWithHandlesOf(rows);
  if (!loaded) return undefined;
  const first = new Map<string, { id: number; name: string }>();
  const consider = (handle: string, id: number | null, firstName: string | null, lastName: string | null) => {
    if (id === null) return;
    const name = `${firstName} ${lastName}`.trim();
    const known = first.get(handle);
    if (name !== "" && (known === undefined || id < known.id)) first.set(handle, { id, name });
  };
  for (const row of rows) {
    if (row.handle_handle === null) continue;
    consider(row.handle_handle, row.phone_contact_id, row.phone_contact_first_name, row.phone_contact_last_name);
    consider(row.handle_handle, row.email_contact_id, row.email_contact_first_name, row.email_contact_last_name);
  }
  return { ...loaded, contactNames: new Map([...first].map(([handle, { name }]) => [handle, name])) };
}

function chatWithHandlesOf(rows: readonly ChatWithHandlesRow[]): ChatParticipants | undefined {
  const first = rows[0];
  if (!first) return undefined;
  const handles: ChatHandle[] = [];
  let previous: number | null = null;
  for (const row of rows) {
    // A participant comes once per pair of their contacts (rows in participant order).
    if (row.handle_id === null || row.handle_id === previous) continue;
    previous = row.handle_id;
    handles.push(
      chatHandleRowToChatHandle({
        id: row.handle_id,
        uuid: row.handle_uuid!,
        chat_id: row.id,
        handle: row.handle_handle!,
        service: row.handle_service!,
        is_me: row.handle_is_me!,
        joined_at: row.handle_joined_at!,
        left_at: row.handle_left_at,
      }),
    );
  }
  return { chat: chatRowToChat(first), handles };
}

/** Every column but the generated id and edit_count (0 by default); spelled out, as the placeholders have no keys to copy. */
type MessageInsert = Required<Omit<Insertable<MessageTable>, "id" | "edit_count">>;
const insertMessage = compiledOnce((db, row: MessageInsert) =>
  db
    .insertInto("messages")
    .values({
      uuid: row.uuid,
      org_id: row.org_id,
      chat_id: row.chat_id,
      chat_handle_id: row.chat_handle_id,
      is_from_me: row.is_from_me,
      text: row.text,
      sent_at: row.sent_at,
      delivered_at: row.delivered_at,
      delivery_status: row.delivery_status,
      edited_at: row.edited_at,
      is_read: row.is_read,
      read_at: row.read_at,
      idempotency_key: row.idempotency_key,
      carrier_message_id: row.carrier_message_id,
      created_at: row.created_at,
      parts: row.parts,
      effect: row.effect,
      reply_to_uuid: row.reply_to_uuid,
      reply_to_part_index: row.reply_to_part_index,
      preferred_service: row.preferred_service,
    } satisfies Record<keyof MessageInsert, unknown>)
    .returningAll(),
);
const findMessageById = compiledOnce((db, a: { orgId: number; id: number }) =>
  db.selectFrom("messages").selectAll().where("org_id", "=", a.orgId).where("id", "=", a.id),
);
const setMessageCarrierId = compiledOnce((db, a: { id: number; carrierMessageId: string }) =>
  db.updateTable("messages").set({ carrier_message_id: a.carrierMessageId }).where("id", "=", a.id).where("carrier_message_id", "is", null),
);
// The carrier's first answer: its id, with or without the outcome it knew at once.
const setCarrierReceipt = compiledOnce((db, a: { orgId: number; id: number; carrierMessageId: string }) =>
  db
    .updateTable("messages")
    .set({ carrier_message_id: a.carrierMessageId })
    .where("org_id", "=", a.orgId)
    .where("id", "=", a.id)
    .where("is_from_me", "=", 1)
    .where("carrier_message_id", "is", null)
    .returningAll(),
);
const setCarrierReceiptWithOutcome = compiledOnce(
  (db, a: { orgId: number; id: number; carrierMessageId: string; status: string; deliveredAt: string | null }) =>
    db
      .updateTable("messages")
      .set({ carrier_message_id: a.carrierMessageId, delivery_status: a.status, delivered_at: a.deliveredAt })
      .where("org_id", "=", a.orgId)
      .where("id", "=", a.id)
      .where("is_from_me", "=", 1)
      .where("carrier_message_id", "is", null)
      .where("delivery_status", "=", "pending")
      .returningAll(),
);
const setMessageDelivery = compiledOnce((db, a: { id: number; status: string; deliveredAt: string | null }) =>
  db.updateTable("messages").set({ delivery_status: a.status, delivered_at: a.deliveredAt }).where("id", "=", a.id),
);

// The list pages' statements, compiled once per shape (see compiled-once.ts): a page runs
// several, and building each through Kysely cost more than SQLite takes to run it.
const findChatByUuid = compiledOnce((db, a: { orgId: number; uuid: string }) =>
  db.selectFrom("chats").selectAll().where("org_id", "=", a.orgId).where("uuid", "=", a.uuid),
);
const handlesOfChats = compiledOnce((db, a: { chatIds: readonly number[] }) =>
  db.selectFrom("chat_handles").selectAll().where(anyOf(db, "chat_id", a.chatIds)).orderBy("id"),
);
/**
 * The org's line with this number, if any, and whether the number also takes part (not as
 * us, not left) in a chat of the org (a chat between two lines): one row when it is a line.
 */
const lineInvolvement = compiledOnce((db, a: { orgId: number; handle: string }) =>
  db
    .selectFrom("phone_numbers")
    .select((eb) => [
      "phone_numbers.id",
      eb
        .exists(
          eb
            .selectFrom("chat_handles")
            .innerJoin("chats", "chats.id", "chat_handles.chat_id")
            .select("chat_handles.chat_id")
            .where("chat_handles.handle", "=", a.handle)
            .where("chat_handles.is_me", "=", 0)
            .where("chat_handles.left_at", "is", null)
            .where("chats.org_id", "=", a.orgId),
        )
        .as("participates"),
    ])
    .where("phone_numbers.org_id", "=", a.orgId)
    .where("phone_numbers.phone_number", "=", a.handle),
);
/** `line`: the line's own chats only; `line+participant`: those and the handle's; `participant`: the handle's only. */
type Involving = "line" | "line+participant" | "participant";
interface InvolvingArgs extends Record<string, unknown> {
  orgId: number;
  handle: string;
  phoneNumberId: number;
}
function involvingChats(db: Kysely<Database>, a: InvolvingArgs, variant: Involving) {
  const participatesIn = db
    .selectFrom("chat_handles")
    .select("chat_handles.chat_id")
    .where("chat_handles.handle", "=", a.handle)
    .where("chat_handles.is_me", "=", 0)
    .where("chat_handles.left_at", "is", null);
  return db.selectFrom("chats").where((eb) =>
    variant === "line"
      ? eb("phone_number_id", "=", a.phoneNumberId)
      : eb.and([
          eb("org_id", "=", a.orgId),
          eb.or([
            ...(variant === "line+participant" ? [eb("phone_number_id", "=", a.phoneNumberId)] : []),
            eb("id", "in", participatesIn),
          ]),
        ]),
  );
}
/**
 * A page with the count of all the matching rows beside each row (an uncorrelated scalar
 * subquery, which both databases run once per statement): a page is one statement, not two.
 * An empty page carries no count; the count's own statement answers then.
 */
const involvingPage = compiledPerVariant((db, a: InvolvingArgs & { offset: number }, variant: `${Involving} ${number}`) => {
  const [involving, limit] = variant.split(" ") as [Involving, string];
  return involvingChats(db, a, involving)
    .selectAll()
    .select(() => involvingChats(db, a, involving).select((eb) => eb.fn.countAll<number>().as("count")).as("total"))
    .orderBy("last_activity_at", "desc")
    .orderBy("id", "desc")
    .limit(sql.lit(Number(limit)))
    .offset(a.offset);
});
const involvingCount = compiledPerVariant((db, a: InvolvingArgs, variant: Involving) =>
  involvingChats(db, a, variant).select((eb) => eb.fn.countAll<number>().as("count")),
);
interface ChatPageArgs extends Record<string, unknown> {
  orgId: number;
  phoneNumberId: number;
  participant: string;
  at: string;
  id: number;
}
/**
 * The variant is the page's size (a literal LIMIT: SQLite plans with a bound one's value, so
 * binding it prepares the statement again at every execution), then the filters that apply:
 * ` line`, ` participant`, ` after` (a keyset).
 */
const chatPage = compiledPerVariant((db, a: ChatPageArgs, variant: string) => {
  let select = db.selectFrom("chats").selectAll().where("org_id", "=", a.orgId);
  if (variant.includes(" line")) select = select.where("phone_number_id", "=", a.phoneNumberId);
  if (variant.includes(" participant")) {
    select = select.where(({ exists, selectFrom }) =>
      exists(
        selectFrom("chat_handles")
          .select("chat_handles.id")
          .whereRef("chat_handles.chat_id", "=", "chats.id")
          .where("chat_handles.handle", "=", a.participant)
          .where("chat_handles.is_me", "=", 0)
          .where("chat_handles.left_at", "is", null),
      ),
    );
  }
  if (variant.includes(" after")) {
    select = select.where((eb) =>
      eb.or([eb("last_activity_at", "<", a.at), eb.and([eb("last_activity_at", "=", a.at), eb("id", "<", a.id)])]),
    );
  }
  return select.orderBy("last_activity_at", "desc").orderBy("id", "desc").limit(sql.lit(parseInt(variant, 10)));
});
interface MessagesOfChatArgs extends Record<string, unknown> {
  chatId: number;
  before: string;
  after: string;
}
/** The variant: the sort direction, then ` before` and ` after` when those bounds apply (and the page's size, for the page). */
function messagesOfChat(db: Kysely<Database>, a: MessagesOfChatArgs, variant: string) {
  let filtered = db.selectFrom("messages").where("chat_id", "=", a.chatId);
  if (variant.includes(" before")) filtered = filtered.where("sent_at", "<", a.before);
  if (variant.includes(" after")) filtered = filtered.where("sent_at", ">", a.after);
  return filtered;
}
const messagesPage = compiledPerVariant((db, a: MessagesOfChatArgs & { offset: number }, variant: string) => {
  const sort = variant.startsWith("asc") ? "asc" : "desc";
  const limit = Number(variant.slice(variant.lastIndexOf(" ") + 1));
  return messagesOfChat(db, a, variant)
    .selectAll()
    // The count of the whole list beside each row, as for involvingPage.
    .select(() => messagesOfChat(db, a, variant).select((eb) => eb.fn.countAll<number>().as("count")).as("total"))
    .orderBy("sent_at", sort)
    .orderBy("id", sort)
    .limit(sql.lit(limit))
    .offset(a.offset);
});
const messagesCount = compiledPerVariant((db, a: MessagesOfChatArgs, variant: string) =>
  messagesOfChat(db, a, variant).select((eb) => eb.fn.countAll<number>().as("count")),
);
/**
 * Participants of a page's chats with the org's contacts whose phone number, or else email,
 * is their handle (one row per participant and pair of such contacts, in participant order;
 * each join an index lookup), as chatWithContactsQuery does for one chat.
 */
const handlesWithContactsOfChats = compiledOnce((db, a: { orgId: number; chatIds: readonly number[] }) =>
  db
    .selectFrom("chat_handles")
    .leftJoin("contacts as by_phone", (join) =>
      join.on("by_phone.org_id", "=", a.orgId).onRef("by_phone.phone_number", "=", "chat_handles.handle"),
    )
    .leftJoin("contacts as by_email", (join) =>
      join.on("by_email.org_id", "=", a.orgId).onRef("by_email.email", "=", "chat_handles.handle"),
    )
    .selectAll("chat_handles")
    .select([
      "by_phone.id as phone_contact_id",
      "by_phone.first_name as phone_contact_first_name",
      "by_phone.last_name as phone_contact_last_name",
      "by_email.id as email_contact_id",
      "by_email.first_name as email_contact_first_name",
      "by_email.last_name as email_contact_last_name",
    ])
    .where(anyOf(db, "chat_handles.chat_id", a.chatIds))
    .orderBy("chat_handles.id"),
);
const sendersOfMessages = compiledOnce((db, a: { messageIds: readonly number[] }) =>
  db
    .selectFrom("messages")
    .innerJoin("chat_handles", "chat_handles.id", "messages.chat_handle_id")
    .select(["messages.id as id", "chat_handles.handle as handle"])
    .where(anyOf(db, "messages.id", a.messageIds)),
);
const attachmentsOfMessages = compiledOnce((db, a: { messageIds: readonly number[] }) =>
  db.selectFrom("attachments").selectAll().where(anyOf(db, "message_id", a.messageIds)).orderBy("position").orderBy("id"),
);
const reactionsOfMessages = compiledOnce((db, a: { messageIds: readonly number[] }) =>
  db.selectFrom("reactions").selectAll().where(anyOf(db, "message_id", a.messageIds)).orderBy("id"),
);

export function chatRepository(db: Kysely<Database>): ChatRepository {
  return {
    async create(chat) {
      const now = stamp(chat.now);
      let row;
      try {
        row = await db
          .insertInto("chats")
          .values({
            uuid: randomUUID(),
            org_id: chat.orgId,
            phone_number_id: chat.phoneNumberId,
            display_name: chat.displayName,
            service: chat.service,
            is_group: flag(chat.isGroup),
            participants_key: chat.participantsKey,
            message_count: 0,
            last_activity_at: now,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError("conflict", "chat already exists", { resource: "chat" });
        throw error;
      }
      await db
        .insertInto("chat_handles")
        .values(
          chat.handles.map((h) => ({
            uuid: randomUUID(),
            chat_id: row.id,
            handle: h.handle,
            service: h.service,
            is_me: flag(h.isMe),
            joined_at: now,
            left_at: null,
          })),
        )
        .execute();
      return chatRowToChat(row);
    },
    async findById(orgId, id) {
      if (!isRowId(id)) return undefined;
      const [row] = (await findChatById(db, { orgId, id })).rows;
      return row && chatRowToChat(row);
    },
    async findWithHandles(orgId, id) {
      if (!isRowId(id)) return undefined;
      return chatWithHandlesOf((await findChatWithHandlesById(db, { orgId, id })).rows);
    },
    async findByUuidWithHandles(orgId, uuid) {
      if (!isUuid(uuid)) return undefined;
      return chatWithHandlesOf((await findChatWithHandlesByUuid(db, { orgId, uuid })).rows);
    },
    async findWithContactNames(orgId, id) {
      if (!isRowId(id)) return undefined;
      return chatWithNamesOf((await findChatWithContactsById(db, { orgId, id })).rows);
    },
    async findByUuidWithContactNames(orgId, uuid) {
      if (!isUuid(uuid)) return undefined;
      return chatWithNamesOf((await findChatWithContactsByUuid(db, { orgId, uuid })).rows);
    },
    async findByUuid(orgId, uuid) {
      if (!isUuid(uuid)) return undefined;
      const [row] = (await findChatByUuid(db, { orgId, uuid })).rows;
      return row && chatRowToChat(row);
    },
    async findByParticipants(phoneNumberId, participantsKey) {
      const row = await db
        .selectFrom("chats")
        .selectAll()
        .where("phone_number_id", "=", phoneNumberId)
        .where("participants_key", "=", participantsKey)
        .executeTakeFirst();
      return row && chatRowToChat(row);
    },
    async setParticipantsKey(chatId, participantsKey) {
      try {
        await db.updateTable("chats").set({ participants_key: participantsKey }).where("id", "=", chatId).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError("conflict", "chat already exists", { resource: "chat" });
        throw error;
      }
    },
    async listInvolving(orgId, handle, page) {
      // A line's own chats are the common case and have their own index: take that path
      // unless the line also takes part in chats as a participant (a chat between two lines).
      const [line] = (await lineInvolvement(db, { orgId, handle })).rows;
      const phoneNumberId = line ? line.id : null;
      const variant: Involving = !line ? "participant" : Number(line.participates) !== 0 ? "line+participant" : "line";
      const args = { orgId, handle, phoneNumberId: phoneNumberId ?? 0 };
      const window = pageWindow(page);
      const rows = window ? (await involvingPage(db, `${variant} ${window.limit}`, { ...args, offset: window.offset })).rows : [];
      const total = rows[0] ? rows[0].total : (await involvingCount(db, variant, args)).rows[0]!.count;
      return { items: rows.map(chatRowToChat), total: Number(total) };
    },
    async countByPhoneNumber(phoneNumberId) {
      const row = await db
        .selectFrom("chats")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .where("phone_number_id", "=", phoneNumberId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    async listPage(query) {
      const variant =
        String(query.limit) +
        (query.phoneNumberId !== undefined ? " line" : "") +
        (query.participant !== undefined ? " participant" : "") +
        (query.after ? " after" : "");
      const { rows } = await chatPage(db, variant, {
        orgId: query.orgId,
        phoneNumberId: query.phoneNumberId ?? 0,
        participant: query.participant ?? "",
        at: query.after ? stamp(query.after.at) : "",
        id: query.after?.id ?? 0,
      });
      return rows.map(chatRowToChat);
    },
    async updateGroup(chatId, changes, now) {
      await db
        .updateTable("chats")
        .set({
          ...(changes.displayName !== undefined ? { display_name: changes.displayName } : {}),
          ...(changes.groupChatIcon !== undefined ? { group_chat_icon: changes.groupChatIcon } : {}),
          updated_at: stamp(now),
        })
        .where("id", "=", chatId)
        .execute();
    },
    async handlesWithNamesFor(orgId, chatIds) {
      const handles = new Map<number, ChatHandle[]>();
      const names = new Map<string, string>();
      if (chatIds.length === 0) return { handles, names };
      const { rows } = await handlesWithContactsOfChats(db, { orgId, chatIds });
      // Each handle's name: that of its first contact (by id) with a name, as namesFor.
      const first = new Map<string, { id: number; name: string }>();
      const consider = (handle: string, id: number | null, firstName: string | null, lastName: string | null) => {
        if (id === null) return;
        const name = `${firstName} ${lastName}`.trim();
        const known = first.get(handle);
        if (name !== "" && (known === undefined || id < known.id)) first.set(handle, { id, name });
      };
      let previous: number | undefined;
      for (const row of rows) {
        consider(row.handle, row.phone_contact_id, row.phone_contact_first_name, row.phone_contact_last_name);
        consider(row.handle, row.email_contact_id, row.email_contact_first_name, row.email_contact_last_name);
        // A participant comes once per pair of their contacts (rows in participant order).
        if (row.id === previous) continue;
        previous = row.id;
        const handle = chatHandleRowToChatHandle(row);
        const ofChat = handles.get(handle.chatId);
        if (ofChat) ofChat.push(handle);
        else handles.set(handle.chatId, [handle]);
      }
      for (const [handle, { name }] of first) names.set(handle, name);
      return { handles, names };
    },
    async handlesFor(chatIds) {
      if (chatIds.length === 0) return new Map<number, ChatHandle[]>();
      const { rows } = await handlesOfChats(db, { chatIds });
      return groupBy(rows.map(chatHandleRowToChatHandle), (h) => h.chatId);
    },
    async addHandle(chatId, handle, now) {
      const row = await db
        .insertInto("chat_handles")
        .values({
          uuid: randomUUID(),
          chat_id: chatId,
          handle: handle.handle,
          service: handle.service,
          is_me: flag(handle.isMe),
          joined_at: stamp(now),
          left_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return chatHandleRowToChatHandle(row);
    },
    async markHandleLeft(handleId, now) {
      await db.updateTable("chat_handles").set({ left_at: stamp(now) }).where("id", "=", handleId).execute();
    },
    async recordActivity(chatId, delta, at) {
      if (at) {
        await recordChatActivity(db, { chatId, delta, at: stamp(at) });
        return;
      }
      await db
        .updateTable("chats")
        .set((eb) => ({
          message_count: eb("message_count", "+", delta),
          ...(at ? { last_activity_at: stamp(at), updated_at: stamp(at) } : {}),
        }))
        .where("id", "=", chatId)
        .execute();
    },
    async setService(chatId, service, now) {
      await db.updateTable("chats").set({ service, updated_at: stamp(now) }).where("id", "=", chatId).execute();
    },
    async setHandleService(handleId, service) {
      await db.updateTable("chat_handles").set({ service }).where("id", "=", handleId).execute();
    },
  };
}

export function messageRepository(db: Kysely<Database>): MessageRepository {
  return {
    async create(message) {
      try {
        const [row] = (
          await insertMessage(db, {
            uuid: randomUUID(),
            org_id: message.orgId,
            chat_id: message.chatId,
            chat_handle_id: message.chatHandleId,
            is_from_me: flag(message.isFromMe),
            text: message.text,
            sent_at: stamp(message.sentAt),
            delivered_at: maybeStamp(message.deliveredAt),
            delivery_status: message.deliveryStatus,
            edited_at: maybeStamp(message.editedAt),
            is_read: flag(message.isRead),
            read_at: maybeStamp(message.readAt),
            idempotency_key: message.idempotencyKey,
            carrier_message_id: message.carrierMessageId ?? null,
            created_at: stamp(message.sentAt),
            parts: message.parts ? JSON.stringify(message.parts) : null,
            effect: message.effect ? JSON.stringify(message.effect) : null,
            reply_to_uuid: message.replyTo?.messageUuid ?? null,
            reply_to_part_index: message.replyTo?.partIndex ?? null,
            preferred_service: message.preferredService ?? null,
          })
        ).rows;
        return messageRowToMessage(row!);
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError("conflict", "idempotency key already used", { resource: "message" });
        throw error;
      }
    },
    async findById(orgId, id) {
      if (!isRowId(id)) return undefined;
      const [row] = (await findMessageById(db, { orgId, id })).rows;
      return row && messageRowToMessage(row);
    },
    async findByCarrierId(orgId, carrierMessageId) {
      const row = await db
        .selectFrom("messages")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("carrier_message_id", "=", carrierMessageId)
        .executeTakeFirst();
      return row && messageRowToMessage(row);
    },
    async setCarrierId(id, carrierMessageId) {
      const result = await setMessageCarrierId(db, { id, carrierMessageId });
      return Number(result.numAffectedRows) === 1;
    },
    async recordCarrierReceipt(orgId, id, carrierMessageId, outcome) {
      const { rows } = outcome
        ? await setCarrierReceiptWithOutcome(db, {
            orgId,
            id,
            carrierMessageId,
            status: outcome.status,
            deliveredAt: outcome.status === "delivered" ? stamp(outcome.at) : null,
          })
        : await setCarrierReceipt(db, { orgId, id, carrierMessageId });
      return rows[0] && messageRowToMessage(rows[0]);
    },
    async findByUuid(orgId, uuid) {
      if (!isUuid(uuid)) return undefined;
      const row = await db
        .selectFrom("messages")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("uuid", "=", uuid)
        .executeTakeFirst();
      return row && messageRowToMessage(row);
    },
    async findByIdempotencyKey(orgId, key) {
      const row = await db
        .selectFrom("messages")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("idempotency_key", "=", key)
        .executeTakeFirst();
      return row && messageRowToMessage(row);
    },
    async listByChat(chatId, query) {
      const variant = query.sort + (query.before ? " before" : "") + (query.after ? " after" : "");
      const args = {
        chatId,
        before: query.before ? stamp(query.before) : "",
        after: query.after ? stamp(query.after) : "",
      };
      const window = pageWindow(query);
      const rows = window ? (await messagesPage(db, `${variant} ${window.limit}`, { ...args, offset: window.offset })).rows : [];
      const total = rows[0] ? rows[0].total : (await messagesCount(db, variant, args)).rows[0]!.count;
      return { items: rows.map(messageRowToMessage), total: Number(total) };
    },
    async markChatRead(chatId, at) {
      const rows = await db
        .updateTable("messages")
        .set({ is_read: 1, read_at: stamp(at) })
        .where("chat_id", "=", chatId)
        .where("is_from_me", "=", 0)
        .where("is_read", "=", 0)
        .returningAll()
        .execute();
      return rows.map(messageRowToMessage).sort((a, b) => a.id - b.id);
    },
    async markOutboundRead(chatId, at) {
      const rows = await db
        .updateTable("messages")
        .set({ is_read: 1, read_at: stamp(at) })
        .where("chat_id", "=", chatId)
        .where("is_from_me", "=", 1)
        .where("is_read", "=", 0)
        .where("delivery_status", "=", "delivered")
        .returningAll()
        .execute();
      return rows.map(messageRowToMessage).sort((a, b) => a.id - b.id);
    },
    async markRead(id, at) {
      await db.updateTable("messages").set({ is_read: 1, read_at: stamp(at) }).where("id", "=", id).execute();
    },
    async updateText(id, text, editedAt) {
      await db.updateTable("messages").set((eb) => ({ text, edited_at: stamp(editedAt), edit_count: eb("edit_count", "+", 1) })).where("id", "=", id).execute();
    },
    async updateParts(id, parts, text, editedAt) {
      await db
        .updateTable("messages")
        .set((eb) => ({ parts: JSON.stringify(parts), text, edited_at: stamp(editedAt), edit_count: eb("edit_count", "+", 1) }))
        .where("id", "=", id)
        .execute();
    },
    async listReplies(chatId, uuids) {
      if (uuids.length === 0) return [];
      const rows = await db
        .selectFrom("messages")
        .selectAll()
        .where("chat_id", "=", chatId)
        .where("reply_to_uuid", "in", uuids)
        .execute();
      return rows.map(messageRowToMessage);
    },
    async updateDelivery(id, status, deliveredAt) {
      await setMessageDelivery(db, { id, status, deliveredAt: maybeStamp(deliveredAt) });
    },
    async delete(id) {
      await db.deleteFrom("reactions").where("message_id", "=", id).execute();
      await db.deleteFrom("attachments").where("message_id", "=", id).execute();
      await db.deleteFrom("messages").where("id", "=", id).execute();
    },
    async sendersFor(messageIds) {
      if (messageIds.length === 0) return new Map<number, string>();
      const { rows } = await sendersOfMessages(db, { messageIds });
      return new Map(rows.map((r) => [r.id, r.handle]));
    },
  };
}

export function attachmentRepository(db: Kysely<Database>): AttachmentRepository {
  return {
    async createMany(attachments) {
      if (attachments.length === 0) return;
      await db
        .insertInto("attachments")
        .values(
          attachments.map((a, position) => ({
            id: a.id,
            position,
            org_id: a.orgId,
            message_id: a.messageId,
            filename: a.filename,
            mime_type: a.mimeType,
            file_size: a.fileSize,
            storage_key: a.storageKey,
            created_at: stamp(a.createdAt),
          })),
        )
        .execute();
    },
    async listForMessages(messageIds) {
      if (messageIds.length === 0) return new Map<number, Attachment[]>();
      const { rows } = await attachmentsOfMessages(db, { messageIds });
      return groupBy(rows.map(attachmentRowToAttachment), (a) => a.messageId);
    },
    async delete(id) {
      await db.deleteFrom("attachments").where("id", "=", id).execute();
    },
    async findById(id) {
      const row = await db.selectFrom("attachments").selectAll().where("id", "=", id).executeTakeFirst();
      return row && attachmentRowToAttachment(row);
    },
    async existingStorageKeys(keys) {
      if (keys.length === 0) return new Set<string>();
      // A file is named after its attachment's id (storage_key is the id), so the primary
      // key answers this without a scan.
      const rows = await db.selectFrom("attachments").select(["id", "storage_key"]).where("id", "in", keys).execute();
      return new Set(rows.filter((row) => row.storage_key === row.id).map((row) => row.id));
    },
  };
}

export function reactionRepository(db: Kysely<Database>): ReactionRepository {
  return {
    async create(reaction) {
      const row = await db
        .insertInto("reactions")
        .values({
          org_id: reaction.orgId,
          message_id: reaction.messageId,
          chat_handle_id: reaction.chatHandleId,
          reaction: reaction.reaction,
          custom_emoji: reaction.customEmoji ?? null,
          part_index: reaction.partIndex ?? 0,
          is_from_me: flag(reaction.isFromMe),
          from_phone: reaction.fromPhone,
          sent_at: stamp(reaction.sentAt),
          created_at: stamp(reaction.createdAt),
          updated_at: stamp(reaction.updatedAt),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return reactionRowToReaction(row);
    },
    async findById(orgId, id) {
      if (!isRowId(id)) return undefined;
      const row = await db
        .selectFrom("reactions")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && reactionRowToReaction(row);
    },
    async listForMessages(messageIds) {
      if (messageIds.length === 0) return new Map<number, Reaction[]>();
      const { rows } = await reactionsOfMessages(db, { messageIds });
      return groupBy(rows.map(reactionRowToReaction), (r) => r.messageId);
    },
    async listByHandle(messageId, chatHandleId) {
      const rows = await db
        .selectFrom("reactions")
        .selectAll()
        .where("message_id", "=", messageId)
        .where("chat_handle_id", "=", chatHandleId)
        .orderBy("id")
        .execute();
      return rows.map(reactionRowToReaction);
    },
    async delete(id) {
      await db.deleteFrom("reactions").where("id", "=", id).execute();
    },
  };
}
