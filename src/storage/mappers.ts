import type {
  Attachment,
  Chat,
  ChatHandle,
  Contact,
  ContactOwner,
  DeliveryStatus,
  Message,
  MessageEffect,
  MessagePart,
  PhoneNumber,
  Reaction,
  StoredReactionType,
  Service,
  User,
  LineReputation,
  LineStatus,
  WebhookSubscription,
} from "../core/model.ts";
import type {
  AttachmentRow,
  ChatHandleRow,
  ChatRow,
  ContactRow,
  MessageRow,
  PhoneNumberRow,
  ReactionRow,
  UserRow,
  WebhookSubscriptionRow,
} from "./schema.ts";

const date = (text: string): Date => new Date(text);

/** True for a string in the canonical (lower-case, hyphenated) UUID form we store. */
export const isUuid = (value: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
const maybeDate = (text: string | null): Date | null => (text === null ? null : new Date(text));
export const stamp = (value: Date): string => value.toISOString();
export const maybeStamp = (value: Date | null): string | null => (value === null ? null : value.toISOString());
export const flag = (value: boolean): number => (value ? 1 : 0);

/** Items by key, each group in the items' order. */
export function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * Row ids are int4 (`serial`) columns. A larger number names no row, and Postgres refuses
 * to even compare one (22003), so lookups answer "not found" for it without asking.
 */
export const MAX_ROW_ID = 2_147_483_647;
export const isRowId = (id: number): boolean => Number.isInteger(id) && id >= 1 && id <= MAX_ROW_ID;

/**
 * LIMIT/OFFSET of a 1-based page, or undefined when the page starts beyond any offset the
 * databases accept (such a page is simply empty).
 */
export function pageWindow(page: { page: number; perPage: number }): { limit: number; offset: number } | undefined {
  const offset = (page.page - 1) * page.perPage;
  return Number.isSafeInteger(offset) ? { limit: page.perPage, offset } : undefined;
}

export function userRowToUser(row: UserRow): User {
  return {
    id: row.id,
    orgId: row.org_id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    role: row.role,
  };
}

export function phoneNumberRowToPhoneNumber(row: PhoneNumberRow): PhoneNumber {
  return {
    id: row.id,
    uuid: row.uuid,
    orgId: row.org_id,
    userId: row.user_id,
    phoneNumber: row.phone_number,
    forwardingNumber: row.forwarding_number,
    responseRate: row.response_rate,
    status: row.status as LineStatus,
    reputation: row.reputation as LineReputation,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

export function chatRowToChat(row: ChatRow): Chat {
  return {
    id: row.id,
    uuid: row.uuid,
    orgId: row.org_id,
    phoneNumberId: row.phone_number_id,
    displayName: row.display_name,
    service: row.service as Service,
    isGroup: row.is_group === 1,
    participantsKey: row.participants_key,
    groupChatIcon: row.group_chat_icon,
    messageCount: row.message_count,
    lastActivityAt: date(row.last_activity_at),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

export function chatHandleRowToChatHandle(row: ChatHandleRow): ChatHandle {
  return {
    id: row.id,
    uuid: row.uuid,
    chatId: row.chat_id,
    handle: row.handle,
    service: row.service as Service,
    isMe: row.is_me === 1,
    joinedAt: date(row.joined_at),
    leftAt: maybeDate(row.left_at),
  };
}

export function messageRowToMessage(row: MessageRow): Message {
  return {
    id: row.id,
    uuid: row.uuid,
    orgId: row.org_id,
    chatId: row.chat_id,
    chatHandleId: row.chat_handle_id,
    isFromMe: row.is_from_me === 1,
    text: row.text,
    parts: row.parts === null ? null : (JSON.parse(row.parts) as MessagePart[]),
    effect: row.effect === null ? null : (JSON.parse(row.effect) as MessageEffect),
    replyTo:
      row.reply_to_uuid === null ? null : { messageUuid: row.reply_to_uuid, partIndex: row.reply_to_part_index ?? 0 },
    preferredService: row.preferred_service as Service | null,
    sentAt: date(row.sent_at),
    deliveredAt: maybeDate(row.delivered_at),
    deliveryStatus: row.delivery_status as DeliveryStatus,
    editedAt: maybeDate(row.edited_at),
    editCount: Number(row.edit_count),
    isRead: row.is_read === 1,
    readAt: maybeDate(row.read_at),
    idempotencyKey: row.idempotency_key,
    carrierMessageId: row.carrier_message_id,
  };
}

export function attachmentRowToAttachment(row: AttachmentRow): Attachment {
  return {
    id: row.id,
    orgId: row.org_id,
    messageId: row.message_id,
    filename: row.filename,
    mimeType: row.mime_type,
    fileSize: row.file_size,
    storageKey: row.storage_key,
    createdAt: date(row.created_at),
  };
}

export function reactionRowToReaction(row: ReactionRow): Reaction {
  return {
    id: row.id,
    orgId: row.org_id,
    messageId: row.message_id,
    chatHandleId: row.chat_handle_id,
    reaction: row.reaction as StoredReactionType,
    customEmoji: row.custom_emoji,
    partIndex: row.part_index,
    isFromMe: row.is_from_me === 1,
    fromPhone: row.from_phone,
    sentAt: date(row.sent_at),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

export function contactRowToContact(row: ContactRow, owner: ContactOwner | null): Contact {
  return {
    id: row.id,
    orgId: row.org_id,
    ownerUserId: row.owner_user_id,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    phoneNumber: row.phone_number,
    company: row.company,
    title: row.title,
    location: row.location,
    imageUrl: row.image_url,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    owner,
  };
}

/** `secret` is the opened signing secret: rows hold it sealed (see openSubscriptionSecret). */
export function subscriptionRowToSubscription(row: WebhookSubscriptionRow, secret: string | null): WebhookSubscription {
  return {
    id: row.id,
    uuid: row.uuid,
    orgId: row.org_id,
    webhookUrl: row.webhook_url,
    version: row.version,
    events: JSON.parse(row.events) as string[],
    active: row.active === 1,
    secret,
    phoneNumbers: row.phone_numbers === null ? null : (JSON.parse(row.phone_numbers) as string[]),
    deliveryAttempts: row.delivery_attempts,
    lastDeliveredAt: maybeDate(row.last_delivered_at),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}
