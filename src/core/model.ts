import type { DomainEventType } from "./events/domain-events.ts";

/**
 * Core's view of the data. Storage maps rows to these; HTTP faces present them in a
 * wire format (V2, V3). Dates are Date objects. Rows have an integer `id` (the V2 face's ids)
 * and a stable `uuid` (the V3 face's ids); attachments and events have UUID ids only.
 */

export type Service = "iMessage" | "SMS" | "RCS";
export const SERVICES: readonly Service[] = ["iMessage", "SMS", "RCS"];

/** The six tapbacks every face knows. */
export type ReactionType = "love" | "like" | "dislike" | "laugh" | "emphasize" | "question";
export const REACTION_TYPES: readonly ReactionType[] = ["love", "like", "dislike", "laugh", "emphasize", "question"];
/** What a stored reaction may be: a tapback, a custom emoji (V3) or a sticker (inbound only). */
export type StoredReactionType = ReactionType | "custom" | "sticker";

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
  uuid: string;
  orgId: number;
  userId: number;
  phoneNumber: string;
  forwardingNumber: string | null;
  responseRate: number;
  status: LineStatus;
  reputation: LineReputation;
  createdAt: Date;
  updatedAt: Date;
}

/** Whether a line may send: a flagged line is held back by the network. */
export type LineStatus = "ACTIVE" | "FLAGGED";
export const LINE_STATUSES = ["ACTIVE", "FLAGGED"] as const satisfies readonly LineStatus[];
/** How the network rates a line's sending. */
export type LineReputation = "HEALTHY" | "AT_RISK" | "CRITICAL";
export const LINE_REPUTATIONS = ["HEALTHY", "AT_RISK", "CRITICAL"] as const satisfies readonly LineReputation[];

export interface ChatHandle {
  id: number;
  uuid: string;
  chatId: number;
  handle: string;
  service: Service;
  isMe: boolean;
  joinedAt: Date;
  leftAt: Date | null;
}

export interface Chat {
  id: number;
  uuid: string;
  orgId: number;
  phoneNumberId: number;
  /** Set by the creator; null means the name is derived from the participants. */
  displayName: string | null;
  service: Service;
  isGroup: boolean;
  participantsKey: string;
  /** URL of a group chat's icon, when one was set. */
  groupChatIcon: string | null;
  messageCount: number;
  lastActivityAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A chat with its participants (active and former), ours included (isMe), in join order. */
export interface ChatParticipants {
  chat: Chat;
  handles: ChatHandle[];
}

/** A chat with its participants and the contact names they are shown with. */
export interface ChatWithHandles extends ChatParticipants {
  /** Our own number, the sender of outbound messages. */
  phoneNumber: string;
  /** Names of the org's contacts for the chat's handles (handle → "First Last"); see handleName. */
  contactNames: ReadonlyMap<string, string>;
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

/** A file announced for upload before any message carries it (V3 presigned upload). */
export interface AttachmentUpload {
  id: string;
  orgId: number;
  filename: string;
  contentType: string;
  sizeBytes: number;
  status: "pending" | "complete" | "failed";
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** The name and photo a line of ours shares in chats. */
export interface ContactCard {
  orgId: number;
  phoneNumberId: number;
  phoneNumber: string;
  firstName: string;
  lastName: string | null;
  imageUrl: string | null;
  isActive: boolean;
}

export interface Reaction {
  id: number;
  orgId: number;
  messageId: number;
  chatHandleId: number;
  reaction: StoredReactionType;
  /** The emoji of a `custom` reaction. */
  customEmoji: string | null;
  /** Which part of the message the reaction is on (0 for messages in the V2 shape). */
  partIndex: number;
  isFromMe: boolean;
  fromPhone: string;
  sentAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** Styling of a text range (iMessage only); offsets in UTF-16 code units, end exclusive. */
export interface TextDecoration {
  range: [number, number];
  style?: "bold" | "italic" | "strikethrough" | "underline";
  animation?: "big" | "small" | "shake" | "nod" | "explode" | "ripple" | "bloom" | "jitter";
}

/** One part of a message, in order. Media parts point at an attachment of the same message. */
export type MessagePart =
  | { type: "text"; value: string; textDecorations?: TextDecoration[] }
  | { type: "media"; attachmentId: string }
  | { type: "link"; value: string }
  | AppCardPart;

/** The iMessage app (Messages extension) behind an app card. */
interface IMessageApp {
  /** Never contains ":". */
  bundleId: string;
  name: string;
  /** 10 upper-case letters or digits. */
  teamId: string;
  appStoreId?: number;
}

/** What the static card shows; at least one caption or the image. */
export interface AppCardLayout {
  caption?: string;
  subcaption?: string;
  trailingCaption?: string;
  trailingSubcaption?: string;
  imageUrl?: string;
  /** Overlaid on the image: only with `imageUrl`. */
  imageTitle?: string;
  imageSubtitle?: string;
}

/** An iMessage app card: the only part of its message, iMessage only. */
export interface AppCardPart {
  type: "imessage_app";
  app: IMessageApp;
  layout: AppCardLayout;
  /** Shown where the card cannot be (and as V2's text); the caption when the sender gave none. */
  fallbackText: string | null;
  /** Whether an installed extension draws the card live (true) or the static layout shows. */
  interactive: boolean;
  /** What the app opens on tap: an https URL or a data: URL; null when none was given. */
  url: string | null;
}

/** A full-screen or bubble effect on the whole message. */
export interface MessageEffect {
  type: "screen" | "bubble";
  name: string;
}

/** The message (and which of its parts) a threaded reply answers. */
export interface ReplyTo {
  messageUuid: string;
  partIndex: number;
}

export interface Message {
  id: number;
  uuid: string;
  orgId: number;
  chatId: number;
  chatHandleId: number;
  isFromMe: boolean;
  /** The text parts joined by a newline (links as their URL): what V2 shows as `text`. */
  text: string;
  /**
   * The parts in order, or null for a message written in the V2 shape: its text (when not
   * empty), then its attachments in position order. Read through `messageParts`.
   */
  parts: MessagePart[] | null;
  effect: MessageEffect | null;
  replyTo: ReplyTo | null;
  /** The service the sender asked for; null lets the network choose. */
  preferredService: Service | null;
  sentAt: Date;
  deliveredAt: Date | null;
  deliveryStatus: DeliveryStatus;
  editedAt: Date | null;
  /** Edits made so far; iMessage allows a few, soon after sending (see MESSAGE_EDIT_LIMITS). */
  editCount: number;
  isRead: boolean;
  readAt: Date | null;
  idempotencyKey: string | null;
  /** The carrier's id of a message we sent, once the carrier accepted it (receipts name it). */
  carrierMessageId?: string | null;
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
  uuid: string;
  orgId: number;
  webhookUrl: string;
  /** The API version whose face renders its payloads (2 or 3). */
  version: number;
  /** Event types as its face names them. */
  events: string[];
  active: boolean;
  secret: string | null;
  /** The lines (E.164) whose events it gets; null: every line of the org. */
  phoneNumbers: string[] | null;
  deliveryAttempts: number;
  lastDeliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An event row: the domain event as JSON (src/core/events/domain-events.ts); deliveries carry the rendered bytes. */
export interface StoredEvent {
  id: string;
  orgId: number;
  eventType: DomainEventType;
  chatId: number | null;
  payload: string;
  createdAt: Date;
  /** The delivery scenario that made it, if one did. */
  scenarioId?: number | null;
}

/** Who is calling: resolved from the integration token. */
export interface Caller {
  orgId: number;
  tokenId: number;
}

/** An integration token as listed: the token itself is never stored, only a keyed hash. */
export interface ApiToken {
  id: number;
  orgId: number;
  /** Where it came from: "cli", "first start", "OPENLINQ_TOKEN". */
  label: string;
  createdAt: Date;
}
