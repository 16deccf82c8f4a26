import { chatDisplayName, handleName } from "../chats/chat-names.ts";
import { CALL_STEPS, type Call, type CallDirection, type CallStatus, type CallStep } from "../calls/call.ts";
import type { Links } from "../deps.ts";
import { messageParts } from "../messages/parts.ts";
import type {
  ChatHandle,
  ChatWithHandles,
  Contact,
  DeliveryStatus,
  LineReputation,
  LineStatus,
  Message,
  MessageDetails,
  MessageEffect,
  MessagePart,
  Reaction,
  ReplyTo,
  Service,
  StoredReactionType,
  WebhookSubscription,
} from "../model.ts";

/**
 * Domain events: what happened, with the ids and facts any face's webhook payload needs,
 * never wire JSON. Core records them (src/core/webhooks/events.ts) in the transaction of the
 * change; each face renders its own bytes from them once, at fan-out, per subscription.
 *
 * Facts are snapshots taken when the event happened and are JSON-safe (times are ISO 8601
 * strings with milliseconds), so the event stored as JSON renders later — a resend to a new
 * subscription, the event log — exactly as it did at fan-out.
 */

export interface HandleFacts {
  id: number;
  uuid: string;
  handle: string;
  /** How the chat shows them when the event happened. */
  name: string;
  service: Service;
  isMe: boolean;
  joinedAt: string;
  leftAt: string | null;
}

export interface ChatFacts {
  id: number;
  uuid: string;
  /** The name a client shows: the creator's, else the participants' (see chatDisplayName). */
  name: string;
  /** The creator's name only; null when derived. */
  customName: string | null;
  service: Service;
  isGroup: boolean;
  /** Our number in this chat. */
  phoneNumber: string;
  groupChatIcon: string | null;
  createdAt: string;
  updatedAt: string;
  /** Every participant, current and former, ours included. */
  handles: HandleFacts[];
}

export interface AttachmentFacts {
  id: string;
  filename: string;
  mimeType: string;
  fileSize: number;
  url: string;
}

export interface MessageFacts {
  id: number;
  uuid: string;
  chatId: number;
  isFromMe: boolean;
  /** The sender's chat handle id and handle (ours for outbound). */
  senderHandleId: number;
  sender: string;
  text: string;
  sentAt: string;
  deliveredAt: string | null;
  deliveryStatus: DeliveryStatus;
  isRead: boolean;
  readAt: string | null;
  editedAt: string | null;
  idempotencyKey: string | null;
  attachments: AttachmentFacts[];
  /** The parts in order (text parts, then media for messages sent in the V2 shape). */
  parts: MessagePart[];
  effect: MessageEffect | null;
  replyTo: ReplyTo | null;
  preferredService: Service | null;
}

export interface ReactionFacts {
  id: number;
  messageId: number;
  reaction: StoredReactionType;
  customEmoji: string | null;
  partIndex: number;
  isFromMe: boolean;
  /** Who reacted: their chat handle id and handle. */
  reactorHandleId: number;
  reactor: string;
  sentAt: string;
  createdAt: string;
}

export interface ReactedMessageFacts {
  id: number;
  uuid: string;
  text: string;
  sentAt: string;
  isFromMe: boolean;
}

export interface ContactFacts {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phoneNumber: string;
  company: string;
  title: string;
  location: string;
  imageUrl: string | null;
  createdAt: string;
  updatedAt: string;
  owner: { id: number; email: string; firstName: string; lastName: string } | null;
}

export interface CallFacts {
  id: number;
  direction: CallDirection;
  fromHandle: string;
  toHandle: string;
  status: CallStatus;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  answeredBy: string | null;
  forwardedFrom: string | null;
  voicemail: boolean;
  recording: { url: string | null; durationSeconds: number; transcription: string | null; summary: string | null } | null;
}

/** Why a group's name or icon could not be changed. */
export type GroupUpdateFailure = "service_not_supported";

export interface LineFacts {
  id: number;
  uuid: string;
  phoneNumber: string;
  previousStatus: LineStatus;
  status: LineStatus;
  previousReputation: LineReputation;
  reputation: LineReputation;
}

/** Why an outbound message did not reach its recipient. */
export type MessageFailure = "service_unavailable" | "delivery_failed";

export type DomainEvent =
  /** We sent a message (`message.sent`) or a participant wrote one (`message.received`). */
  | { type: "message.sent" | "message.received"; chat: ChatFacts; message: MessageFacts }
  /** Our message reached the recipient's device. */
  | { type: "message.delivered"; chat: ChatFacts; message: MessageFacts }
  /** Our message could not be delivered. */
  | {
      type: "message.failed";
      chat: ChatFacts;
      message: MessageFacts;
      failure: MessageFailure;
      at: string;
      /** Linq's message.failed code (e.g. 4001) and its reason, when the carrier gave one. */
      code?: number;
      reason?: string;
    }
  /** A message was read: theirs by us (isFromMe false) or ours by them. */
  | { type: "message.read"; chat: ChatFacts; message: MessageFacts }
  /** We edited the text of one of our messages: part `partIndex` now reads `partText`. */
  | {
      type: "message.edited";
      chat: ChatFacts;
      message: MessageFacts;
      previousText: string;
      partIndex: number;
      partText: string;
      at: string;
    }
  /** A tapback added or removed: ours (`reaction.sent`) or a participant's (`reaction.received`). */
  | {
      type: "reaction.sent" | "reaction.received";
      operation: "add" | "remove";
      chat: ChatFacts;
      reaction: ReactionFacts;
      /** The message reacted to. */
      message: ReactedMessageFacts;
    }
  /** A participant started (`typing_indicator.received`) or stopped typing. */
  | { type: "typing_indicator.received" | "typing_indicator.removed"; chat: ChatFacts; handle: HandleFacts; at: string }
  | { type: "chat.created"; chat: ChatFacts }
  | { type: "participant.added" | "participant.removed"; chat: ChatFacts; handle: HandleFacts; at: string }
  /** A group's name or icon changed (`previous`/`current`: names, or icon URLs; null = none). */
  | {
      type: "chat.group_name_updated" | "chat.group_icon_updated";
      chat: ChatFacts;
      previous: string | null;
      current: string | null;
      /** Who changed it: our line's handle or a participant's (null in events recorded before it was kept). */
      changedBy: HandleFacts | null;
      at: string;
    }
  /** Our change of a group's name or icon could not be carried out (the chat is unchanged). */
  | { type: "chat.group_name_update_failed" | "chat.group_icon_update_failed"; chat: ChatFacts; failure: GroupUpdateFailure; at: string }
  /** The network changed a line's status or reputation. */
  | { type: "phone_number.status_updated"; line: LineFacts; at: string }
  | { type: "contact.created" | "contact.updated"; contact: ContactFacts }
  | { type: "contact.deleted"; contactId: number }
  /** A voice call on one of our numbers ended (the whole call, as V2 reports it). */
  | { type: "call.completed"; call: CallFacts }
  /**
   * One step of a call's life (see callSteps), recorded with the rest of its steps when the call
   * is reported. `call` is the finished call; `at` is when this step happened; `line` is our
   * number; `chatUuid` the direct chat with the other party, when there is one.
   */
  | { type: CallStep; call: CallFacts; line: string; chatUuid: string | null; at: string }
  /**
   * A participant started or stopped sharing their location with our number in a direct chat.
   * `endsAt` is null when sharing is indefinite.
   */
  | { type: "location.sharing.started"; chat: ChatFacts; handle: HandleFacts; beganAt: string; endsAt: string | null }
  | { type: "location.sharing.stopped"; chat: ChatFacts; handle: HandleFacts; at: string };

export type DomainEventType = DomainEvent["type"];

/** One step of a call's life. */
export type CallStepEvent = Extract<DomainEvent, { type: CallStep }>;

export function isCallStepEvent(event: DomainEvent): event is CallStepEvent {
  return (CALL_STEPS as readonly string[]).includes(event.type);
}

/** Every domain event type (the event log filters by these). */
export const DOMAIN_EVENT_TYPES = [
  "message.sent",
  "message.received",
  "message.delivered",
  "message.failed",
  "message.read",
  "message.edited",
  "reaction.sent",
  "reaction.received",
  "typing_indicator.received",
  "typing_indicator.removed",
  "chat.created",
  "chat.group_name_updated",
  "chat.group_icon_updated",
  "chat.group_name_update_failed",
  "chat.group_icon_update_failed",
  "phone_number.status_updated",
  "participant.added",
  "participant.removed",
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "call.completed",
  ...CALL_STEPS,
  "location.sharing.started",
  "location.sharing.stopped",
] as const satisfies readonly DomainEventType[];

// Every type of the union is listed above (a missing one fails to compile here).
const allListed: Exclude<DomainEventType, (typeof DOMAIN_EVENT_TYPES)[number]> extends never ? true : false = true;
void allListed;

/** A domain event as recorded: its id and time are the webhook's event id and creation time. */
export interface RecordedEvent {
  id: string;
  orgId: number;
  createdAt: Date;
  event: DomainEvent;
}

const iso = (date: Date): string => date.toISOString();
const isoOrNull = (date: Date | null): string | null => (date === null ? null : date.toISOString());

/** A participant of `chat`, named as the chat shows them (the org's contact name, else the pretty handle). */
export function handleFacts(chat: ChatWithHandles, handle: ChatHandle): HandleFacts {
  return {
    id: handle.id,
    uuid: handle.uuid,
    handle: handle.handle,
    name: handleName(chat, handle.handle),
    service: handle.service,
    isMe: handle.isMe,
    joinedAt: iso(handle.joinedAt),
    leftAt: isoOrNull(handle.leftAt),
  };
}

export function chatFacts(chat: ChatWithHandles): ChatFacts {
  return {
    id: chat.chat.id,
    uuid: chat.chat.uuid,
    name: chatDisplayName(chat),
    customName: chat.chat.displayName,
    service: chat.chat.service,
    isGroup: chat.chat.isGroup,
    phoneNumber: chat.phoneNumber,
    groupChatIcon: chat.chat.groupChatIcon,
    createdAt: iso(chat.chat.createdAt),
    updatedAt: iso(chat.chat.updatedAt),
    handles: chat.handles.map((h) => handleFacts(chat, h)),
  };
}

export function messageFacts(details: MessageDetails, links: Links): MessageFacts {
  const { message } = details;
  return {
    ...messageRowFacts(message, details.sender),
    attachments: details.attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      mimeType: a.mimeType,
      fileSize: a.fileSize,
      url: links.attachmentUrl(a.id, a.filename),
    })),
    parts: messageParts(message, details.attachments),
  };
}

function messageRowFacts(message: Message, sender: string): Omit<MessageFacts, "attachments" | "parts"> {
  return {
    id: message.id,
    uuid: message.uuid,
    chatId: message.chatId,
    isFromMe: message.isFromMe,
    senderHandleId: message.chatHandleId,
    sender,
    text: message.text,
    sentAt: iso(message.sentAt),
    deliveredAt: isoOrNull(message.deliveredAt),
    deliveryStatus: message.deliveryStatus,
    isRead: message.isRead,
    readAt: isoOrNull(message.readAt),
    editedAt: isoOrNull(message.editedAt),
    idempotencyKey: message.idempotencyKey,
    effect: message.effect,
    replyTo: message.replyTo,
    preferredService: message.preferredService,
  };
}

export function reactionFacts(chat: ChatWithHandles, reaction: Reaction): ReactionFacts {
  const reactor = chat.handles.find((h) => h.id === reaction.chatHandleId);
  return {
    id: reaction.id,
    messageId: reaction.messageId,
    reaction: reaction.reaction,
    customEmoji: reaction.customEmoji,
    partIndex: reaction.partIndex,
    isFromMe: reaction.isFromMe,
    reactorHandleId: reaction.chatHandleId,
    reactor: reactor?.handle ?? reaction.fromPhone,
    sentAt: iso(reaction.sentAt),
    createdAt: iso(reaction.createdAt),
  };
}

export function reactedMessageFacts(message: Message): ReactedMessageFacts {
  return { id: message.id, uuid: message.uuid, text: message.text, sentAt: iso(message.sentAt), isFromMe: message.isFromMe };
}

export function contactFacts(contact: Contact): ContactFacts {
  return {
    id: contact.id,
    firstName: contact.firstName,
    lastName: contact.lastName,
    email: contact.email,
    phoneNumber: contact.phoneNumber,
    company: contact.company,
    title: contact.title,
    location: contact.location,
    imageUrl: contact.imageUrl,
    createdAt: iso(contact.createdAt),
    updatedAt: iso(contact.updatedAt),
    owner: contact.owner
      ? { id: contact.owner.id, email: contact.owner.email, firstName: contact.owner.firstName, lastName: contact.owner.lastName }
      : null,
  };
}

export function callFacts(call: Call): CallFacts {
  return {
    id: call.id,
    direction: call.direction,
    fromHandle: call.fromHandle,
    toHandle: call.toHandle,
    status: call.status,
    startedAt: iso(call.startedAt),
    endedAt: iso(call.endedAt),
    durationSeconds: call.durationSeconds,
    answeredBy: call.answeredBy,
    forwardedFrom: call.forwardedFrom,
    voicemail: call.voicemail,
    recording: call.recording ? { ...call.recording } : null,
  };
}

/**
 * Renders a recorded event for one subscription: the port each HTTP face implements for its
 * own webhook format, wired in src/app.ts. Core asks it once per (event, subscription) at
 * fan-out and stores the bytes with the delivery, so every retry sends the same bytes.
 */
export interface WebhookRenderer {
  /** Whether the subscription gets this event: its face has it, it is subscribed to, not filtered out. */
  selects(event: RecordedEvent, subscription: WebhookSubscription): boolean;
  /** The face's event type and bytes for this subscription; undefined when its face has no such event. */
  render(event: RecordedEvent, subscription: WebhookSubscription): RenderedWebhook | undefined;
}

export interface RenderedWebhook {
  /** The event type as the face names it (the `X-Webhook-Event` header). */
  eventType: string;
  /** The exact bytes to POST and sign. */
  body: string;
}
