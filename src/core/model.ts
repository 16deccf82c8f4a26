/**
 * Core's view of the data. Storage maps rows to these; HTTP faces present them in a
 * wire format (V2 now, V3 later). Dates are Date objects; ids are numbers except the
 * UUIDs of attachments and events.
 */

export type Service = "iMessage" | "SMS" | "RCS";
export const SERVICES: readonly Service[] = ["iMessage", "SMS", "RCS"];

export type ReactionType = "love" | "like" | "dislike" | "laugh" | "emphasize" | "question";
export const REACTION_TYPES: readonly ReactionType[] = ["love", "like", "dislike", "laugh", "emphasize", "question"];

/** Union of the enums in the ChatMessage and Create Chat schemas (Linq's V2 reference), plus failed. */
export type DeliveryStatus =
  | "pending"
  | "delivered"
  | "service_unavailable"
  | "rate_limit_exceeded"
  | "paused"
  | "failed";

export interface Organization {
  id: number;
  name: string;
  createdAt: Date;
}

export interface User {
  id: number;
  orgId: number;
  email: string;
  firstName: string;
  lastName: string;
  role: string;
}

export interface PhoneNumber {
  id: number;
  orgId: number;
  userId: number;
  phoneNumber: string;
  forwardingNumber: string | null;
  responseRate: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ChatHandle {
  id: number;
  chatId: number;
  handle: string;
  service: Service;
  isMe: boolean;
  joinedAt: Date;
  leftAt: Date | null;
}

export interface Chat {
  id: number;
  orgId: number;
  phoneNumberId: number;
  /** Set by the creator; null means the name is derived from the participants. */
  displayName: string | null;
  service: Service;
  isGroup: boolean;
  participantsKey: string;
  messageCount: number;
  lastActivityAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A chat with its participants (active and former), ours included (isMe). */
export interface ChatWithHandles {
  chat: Chat;
  handles: ChatHandle[];
  /** Our own number, the sender of outbound messages. */
  phoneNumber: string;
}

export interface Attachment {
  id: string;
  orgId: number;
  messageId: number;
  filename: string;
  mimeType: string;
  fileSize: number;
  storageKey: string;
  createdAt: Date;
}

export interface Reaction {
  id: number;
  orgId: number;
  messageId: number;
  chatHandleId: number;
  reaction: ReactionType;
  isFromMe: boolean;
  fromPhone: string;
  sentAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface Message {
  id: number;
  orgId: number;
  chatId: number;
  chatHandleId: number;
  isFromMe: boolean;
  text: string;
  sentAt: Date;
  deliveredAt: Date | null;
  deliveryStatus: DeliveryStatus;
  editedAt: Date | null;
  isRead: boolean;
  readAt: Date | null;
  idempotencyKey: string | null;
}

/** A message with everything a client reads on it. */
export interface MessageDetails {
  message: Message;
  /** Handle of the sender (ours for outbound). */
  sender: string;
  attachments: Attachment[];
  reactions: Reaction[];
}

export interface ContactOwner {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
}

export interface Contact {
  id: number;
  orgId: number;
  ownerUserId: number | null;
  firstName: string;
  lastName: string;
  email: string;
  phoneNumber: string;
  company: string;
  title: string;
  location: string;
  imageUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
  owner: ContactOwner | null;
}

export const WEBHOOK_EVENT_TYPES = [
  "message.sent",
  "message.received",
  "message.read",
  "call.completed",
  "reaction.sent",
  "reaction.received",
  "typing_indicator.received",
  "typing_indicator.removed",
  "chat.created",
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "participant.added",
  "participant.removed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookSubscription {
  id: number;
  orgId: number;
  webhookUrl: string;
  version: number;
  events: WebhookEventType[];
  active: boolean;
  secret: string | null;
  deliveryAttempts: number;
  lastDeliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An outbox row: the envelope is already rendered as the canonical bytes to deliver. */
export interface StoredEvent {
  id: string;
  orgId: number;
  eventType: WebhookEventType;
  chatId: number | null;
  payload: string;
  createdAt: Date;
}

/** Who is calling: resolved from the integration token. */
export interface Caller {
  orgId: number;
  tokenId: number;
}
