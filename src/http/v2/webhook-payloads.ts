import type {
  CallFacts,
  ChatFacts,
  ContactFacts,
  DomainEvent,
  HandleFacts,
  MessageFacts,
  RecordedEvent,
  RenderedWebhook,
  WebhookRenderer,
} from "../../core/events/domain-events.ts";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../../core/model.ts";
import { isoMillis, isoSeconds, rubyTime } from "../../core/time.ts";
import { canonicalJson } from "./canonical-json.ts";

/**
 * V2 webhook payloads, rendered from domain events. Ids are strings except contact ids;
 * timestamps use V2's per-field formats (ISO without millis, or Ruby's Time#to_s). Message
 * events also carry the seed's nested `message` and `chat` objects (integer ids, ISO times).
 *
 * The envelope is a superset of the reference (`api_version`, `event_type`, `event_id`,
 * `created_at`, `data`) and the seed (`event`, `timestamp`), as canonical JSON: the V2
 * signature is an HMAC over exactly these bytes.
 */

const at = (iso: string) => new Date(iso);

function webhookChatHandles(chat: ChatFacts) {
  return chat.handles
    .filter((h) => h.leftAt === null)
    .map((h) => ({ identifier: h.handle, display_name: h.name, is_me: h.isMe }));
}

function messageEventData(chat: ChatFacts, message: MessageFacts) {
  return {
    id: String(message.id),
    chat_id: String(message.chatId),
    text: message.text,
    sent_at: rubyTime(at(message.sentAt)),
    is_read: message.isRead,
    from_phone: message.sender,
    service: chat.service,
    reaction_id: null,
    chat_handles: webhookChatHandles(chat),
    attachments: message.attachments.map((a) => ({ id: a.id, url: a.url, filename: a.filename, mime_type: a.mimeType })),
    message: {
      id: message.id,
      text: message.text,
      sent_at: isoMillis(at(message.sentAt)),
      sent_from: message.sender,
      chat_id: message.chatId,
    },
    chat: { id: chat.id, display_name: chat.name, service: chat.service },
  };
}

function messageReadEventData(message: MessageFacts) {
  return {
    id: String(message.id),
    chat_id: String(message.chatId),
    read_at: isoSeconds(at(message.readAt ?? message.sentAt)),
  };
}

function chatHandleRef(handle: { id: number; handle: string }) {
  return { id: String(handle.id), identifier: handle.handle };
}

function participantEventData(chat: ChatFacts, handle: HandleFacts, when: string) {
  return {
    chat_id: String(chat.id),
    chat_handle: chatHandleRef(handle),
    chat_handles: webhookChatHandles(chat),
    timestamp: rubyTime(at(when)),
  };
}

/** The REST Contact object; also the `data` of contact.created / contact.updated. */
export function contactObject(contact: ContactFacts) {
  return {
    id: contact.id,
    first_name: contact.firstName,
    last_name: contact.lastName,
    full_name: `${contact.firstName} ${contact.lastName}`.trim(),
    email: contact.email,
    phone_number: contact.phoneNumber,
    company: contact.company,
    title: contact.title,
    location: contact.location,
    image_url: contact.imageUrl,
    created_at: isoMillis(at(contact.createdAt)),
    updated_at: isoMillis(at(contact.updatedAt)),
    contact_owner: contact.owner
      ? {
          id: contact.owner.id,
          email: contact.owner.email,
          first_name: contact.owner.firstName,
          last_name: contact.owner.lastName,
          name: `${contact.owner.firstName} ${contact.owner.lastName}`.trim(),
        }
      : null,
  };
}

/**
 * call.completed `data`: string id, Ruby-style times, recording_data null without a recording.
 * Fields typed as strings are never null: what is unknown is left out (answered_by of an
 * unanswered call; a recording's url, transcription or summary nobody gave). forwarded_from
 * is documented as string-or-null and stays null when the call was not forwarded.
 */
export function callCompletedEventData(call: CallFacts) {
  const recording = call.recording;
  return {
    id: String(call.id),
    to: call.toHandle,
    from: call.fromHandle,
    status: call.status,
    direction: call.direction,
    start_time: rubyTime(at(call.startedAt)),
    end_time: rubyTime(at(call.endedAt)),
    duration: call.durationSeconds,
    call_type: "normal",
    forwarded_from: call.forwardedFrom,
    ...(call.answeredBy !== null ? { answered_by: call.answeredBy } : {}),
    voicemail: call.voicemail,
    has_recording: recording !== null,
    recording_data: recording
      ? {
          id: String(call.id),
          ...(recording.url !== null ? { url: recording.url } : {}),
          duration: recording.durationSeconds,
          transcribed: recording.transcription !== null,
          transcript_available: recording.transcription !== null,
          ...(recording.transcription !== null ? { transcription: recording.transcription } : {}),
          ...(recording.summary !== null ? { summary: recording.summary } : {}),
        }
      : null,
  };
}

/** The V2 event type and `data` of a domain event; undefined for events V2 does not have. */
export function v2EventData(event: DomainEvent): { type: WebhookEventType; data: Record<string, unknown> } | undefined {
  switch (event.type) {
    case "message.sent":
    case "message.received":
      return { type: event.type, data: messageEventData(event.chat, event.message) };
    case "message.read":
      return { type: event.type, data: messageReadEventData(event.message) };
    case "reaction.sent":
    case "reaction.received": {
      const { reaction, chat, message } = event;
      return {
        type: event.type,
        data: {
          id: String(reaction.id),
          chat_message_id: String(reaction.messageId),
          chat_id: String(chat.id),
          reaction: reaction.reaction,
          operation: event.operation,
          is_from_me: reaction.isFromMe,
          sent_at: rubyTime(at(reaction.sentAt)),
          created_at: rubyTime(at(reaction.createdAt)),
          chat_handle: { id: String(reaction.reactorHandleId), identifier: reaction.reactor },
          chat_handles: webhookChatHandles(chat),
          associated_message: { id: String(message.id), text: message.text, sent_at: rubyTime(at(message.sentAt)) },
        },
      };
    }
    case "typing_indicator.received":
    case "typing_indicator.removed":
      return {
        type: event.type,
        data: {
          chat_id: String(event.chat.id),
          display: event.type === "typing_indicator.received",
          timestamp: rubyTime(at(event.at)),
          chat_handles: webhookChatHandles(event.chat),
          // V2's typing payload names only the chat; we add who typed.
          chat_handle: chatHandleRef(event.handle),
        },
      };
    case "chat.created":
      return {
        type: event.type,
        data: {
          id: String(event.chat.id),
          display_name: event.chat.name,
          service: event.chat.service,
          group: event.chat.isGroup,
          chat_handles: webhookChatHandles(event.chat),
        },
      };
    case "participant.added":
    case "participant.removed":
      return { type: event.type, data: participantEventData(event.chat, event.handle, event.at) };
    case "contact.created":
    case "contact.updated":
      return { type: event.type, data: contactObject(event.contact) };
    case "contact.deleted":
      return { type: event.type, data: { id: event.contactId } };
    case "call.completed":
      return { type: event.type, data: callCompletedEventData(event.call) };
    case "message.delivered":
    case "message.failed":
    case "message.edited":
    case "chat.group_name_updated":
    case "chat.group_icon_updated":
    case "chat.group_name_update_failed":
    case "chat.group_icon_update_failed":
    case "phone_number.status_updated":
    case "call.initiated":
    case "call.ringing":
    case "call.answered":
    case "call.ended":
    case "call.declined":
    case "call.no_answer":
    case "call.failed":
    case "location.sharing.started":
    case "location.sharing.stopped":
      return undefined;
  }
}

/** The V2 envelope of an event as canonical JSON, or undefined when V2 has no such event. */
export function renderV2Envelope(recorded: RecordedEvent): RenderedWebhook | undefined {
  const rendered = v2EventData(recorded.event);
  if (!rendered) return undefined;
  const created = isoSeconds(recorded.createdAt);
  const envelope = {
    api_version: "v2",
    event_type: rendered.type,
    event_id: recorded.id,
    created_at: created,
    data: rendered.data,
    event: rendered.type,
    timestamp: created,
  };
  return { eventType: rendered.type, body: canonicalJson(envelope) };
}

/** The V2 face's webhook renderer: subscribers of the V2 event type get the V2 envelope. */
export const v2WebhookRenderer: WebhookRenderer = {
  selects(recorded, subscription) {
    const type = v2EventType(recorded.event);
    return type !== undefined && subscription.events.includes(type);
  },
  render: renderV2Envelope,
};

/** The V2 name of a domain event's type (V2's event names are the domain's), if V2 has the event. */
function v2EventType(event: DomainEvent): WebhookEventType | undefined {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type) ? (event.type as WebhookEventType) : undefined;
}
