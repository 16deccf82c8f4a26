import type { Generated, Selectable, Updateable } from "kysely";

/**
 * Row types of every table. Timestamps are ISO 8601 strings in UTC with milliseconds
 * (`2025-05-21T15:30:00.123Z`) so they sort as text on both dialects; booleans are 0/1
 * integers for the same reason. JSON columns hold text.
 */

export interface OrganizationTable {
  id: Generated<number>;
  name: string;
  created_at: string;
}

export interface UserTable {
  id: Generated<number>;
  org_id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: string;
  created_at: string;
}

export interface ApiTokenTable {
  id: Generated<number>;
  org_id: number;
  /** Keyed hash of the token (SecretBox.tokenHash); the token itself is never stored. */
  token_hash: string;
  label: string;
  created_at: string;
  /** "hmac"; "sha256" for a row from before keyed hashes, until the start rekeys it. */
  hash_kind: Generated<string>;
}

/** One row (id 1): the fingerprint of the key that sealed this database's secrets. */
export interface SecretKeyFingerprintTable {
  id: number;
  fingerprint: string;
  created_at: string;
}

export interface PhoneNumberTable {
  id: Generated<number>;
  /** Stable public id (the V3 face's); set on insert. */
  uuid: string;
  org_id: number;
  user_id: number;
  phone_number: string;
  forwarding_number: string | null;
  response_rate: number;
  /** ACTIVE or FLAGGED. */
  status: Generated<string>;
  /** HEALTHY, AT_RISK or CRITICAL. */
  reputation: Generated<string>;
  created_at: string;
  updated_at: string;
}

export interface ChatTable {
  id: Generated<number>;
  /** Stable public id (the V3 face's); set on insert. */
  uuid: string;
  org_id: number;
  phone_number_id: number;
  /** Name set by the creator; null means "derive from the participants". */
  display_name: string | null;
  service: string;
  is_group: number;
  /** Sorted, comma-joined participant handles (without our number): the find-or-create key. */
  participants_key: string;
  group_chat_icon: Generated<string | null>;
  message_count: number;
  last_activity_at: string;
  created_at: string;
  updated_at: string;
}

export interface ChatHandleTable {
  id: Generated<number>;
  /** Stable public id (the V3 face's); set on insert. */
  uuid: string;
  chat_id: number;
  handle: string;
  service: string;
  is_me: number;
  joined_at: string;
  left_at: string | null;
}

export interface MessageTable {
  id: Generated<number>;
  /** Stable public id (the V3 face's); set on insert. */
  uuid: string;
  org_id: number;
  chat_id: number;
  chat_handle_id: number;
  is_from_me: number;
  text: string;
  sent_at: string;
  delivered_at: string | null;
  delivery_status: string;
  edited_at: string | null;
  edit_count: Generated<number>;
  is_read: number;
  read_at: string | null;
  idempotency_key: string | null;
  created_at: string;
  /** JSON array of parts; null: the V2 shape (text, then attachments by position). */
  parts: string | null;
  /** JSON {"type","name"} or null. */
  effect: string | null;
  reply_to_uuid: string | null;
  reply_to_part_index: number | null;
  preferred_service: string | null;
  /** The carrier's id of a message we sent, once the carrier accepted it; null before (and for inbound). */
  carrier_message_id: Generated<string | null>;
}

export interface AttachmentTable {
  id: string;
  org_id: number;
  message_id: number;
  filename: string;
  mime_type: string;
  file_size: number;
  /** Path relative to the attachments directory. */
  storage_key: string;
  created_at: string;
  /** 0-based order within the message, as sent. */
  position: Generated<number>;
}

export interface ReactionTable {
  id: Generated<number>;
  org_id: number;
  message_id: number;
  chat_handle_id: number;
  reaction: string;
  custom_emoji: Generated<string | null>;
  part_index: Generated<number>;
  is_from_me: number;
  from_phone: string;
  sent_at: string;
  created_at: string;
  updated_at: string;
}

export interface ContactTable {
  id: Generated<number>;
  org_id: number;
  owner_user_id: number | null;
  first_name: string;
  last_name: string;
  email: string;
  phone_number: string;
  company: string;
  title: string;
  location: string;
  image_url: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookSubscriptionTable {
  id: Generated<number>;
  /** Stable public id (the V3 face's); set on insert. */
  uuid: string;
  org_id: number;
  webhook_url: string;
  version: number;
  /** JSON array of event types. */
  events: string;
  active: number;
  /** Plaintext secret of a row from before sealing, until the start seals it; null after. */
  secret: string | null;
  /** The signing secret sealed by SecretBox (AES-256-GCM); null for a subscription without one. */
  sealed_secret: string | null;
  /** JSON array of the E.164 lines whose events it gets; null: every line. */
  phone_numbers: string | null;
  delivery_attempts: number;
  last_delivered_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The outbox: one row per event, written in the transaction of the change that caused it. */
export interface EventTable {
  /** UUID, the envelope's event_id. */
  id: string;
  org_id: number;
  event_type: string;
  chat_id: number | null;
  /**
   * `domain`: the domain event as JSON (src/core/events/domain-events.ts). `v2-envelope`
   * (rows from before): the V2 envelope as delivered.
   */
  payload: string;
  payload_format: Generated<string>;
  created_at: string;
  /** The delivery scenario that made this event (src/core/scenarios); null for most. */
  scenario_id: Generated<number | null>;
  /**
   * Where the event stands in the order `openlinq listen` streams (storage/listeners.repository.ts):
   * null until numbered, which happens only after commit, so positions follow visibility.
   */
  position: Generated<number | null>;
}

/** One row per (event, subscription): the unit the delivery worker claims. */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  org_id: number;
  event_id: string;
  subscription_id: number;
  /**
   * The event's chat (null: not about a chat). A delivery waits while an earlier one of the
   * same chat and subscription is pending, so a chat's events arrive in commit order.
   */
  chat_id: number | null;
  /** The subscription face's name of the event type; null on rows from before (events.event_type then). */
  event_type: string | null;
  /** The bytes every attempt sends and signs; null on rows from before (events.payload then). */
  body: string | null;
  /** pending | succeeded | failed */
  status: string;
  attempt_count: number;
  next_attempt_at: string;
  /** Set while a worker holds the delivery; expired claims are retaken. */
  claimed_until: string | null;
  claimed_by: string | null;
  last_response_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  /** The delivery scenario that shaped this delivery (delayed, duplicated, reordered); null for most. */
  scenario_id: Generated<number | null>;
}

export interface WebhookAttemptTable {
  id: Generated<number>;
  delivery_id: number;
  event_id: string;
  subscription_id: number;
  attempt_number: number;
  url: string;
  /** JSON object of request headers. */
  request_headers: string;
  /** Empty when it is the event's payload (always, so far): see deliveries.repository.ts. */
  request_body: string;
  response_status: number | null;
  /** JSON object of response headers. */
  response_headers: string | null;
  /** Truncated response body. */
  response_body: string | null;
  duration_ms: number;
  error: string | null;
  attempted_at: string;
}

/** Settings of a simulated device (absent row: built-in defaults or a magic number's). */
export interface HandleProfileTable {
  id: Generated<number>;
  org_id: number;
  handle: string;
  service: string;
  reachable: number;
  latency_ms: number;
  jitter_ms: number;
  /** Null: never reads. */
  read_after_ms: number | null;
  /** JSON: {"type":"none"} | {"type":"echo","delayMs"} | {"type":"script","replies":[…],"loop"}. */
  auto_reply: string;
  /** JSON {"type","delayMs"} or null. */
  auto_reaction: string | null;
  script_position: number;
  created_at: string;
  updated_at: string;
}

/** What a simulated device shows; one row per (chat, handle, kind). */
export interface DeviceSignalTable {
  id: Generated<number>;
  org_id: number;
  chat_id: number;
  handle: string;
  kind: string;
  at: string;
  expires_at: string | null;
  /** JSON object or null. */
  detail: string | null;
}

export interface CallTable {
  id: Generated<number>;
  org_id: number;
  phone_number_id: number;
  direction: string;
  from_handle: string;
  to_handle: string;
  status: string;
  started_at: string;
  ended_at: string;
  duration_seconds: number;
  answered_by: string | null;
  forwarded_from: string | null;
  voicemail: number;
  /** JSON {"url","durationSeconds","transcription","summary"} or null. */
  recording: string | null;
  created_at: string;
}

/** A carrier event applied once (see CarrierEventRepository); the key is the carrier's. */
export interface CarrierEventTable {
  org_id: number;
  carrier_event_id: string;
  created_at: string;
}

/**
 * Outbound work due at `run_at`: a send to the carrier, a signal of ours, a step of the
 * simulated carrier. A worker holds a row between claim and completion (deleted) or failure
 * (rescheduled, `attempts` + 1); a claim expires at `claimed_until`.
 */
export interface OutboundJobTable {
  id: Generated<number>;
  org_id: number;
  kind: string;
  /** JSON object; what the job's handler needs. */
  payload: string;
  run_at: string;
  attempts: number;
  max_attempts: number;
  claimed_by: string | null;
  claimed_until: string | null;
  last_error: string | null;
  created_at: string;
}

/** What the simulated carrier accepted: its id and the outcome it gave at once, so a repeated send gets the same answer. */
export interface SimulatorSendTable {
  message_id: number;
  org_id: number;
  carrier_message_id: string;
  /** pending (delivery or failure follows as a job), delivered or service_unavailable. */
  status: string;
  delivered_at: string | null;
  created_at: string;
}

/** A fault an organization injects into its own API (src/core/faults). */
export interface ApiFaultTable {
  id: Generated<number>;
  org_id: number;
  method: string;
  path: string;
  token_id: number | null;
  status: number | null;
  retry_after: number | null;
  latency_ms: number;
  /** How many requests it may still hit in total; null: no limit. */
  count: number | null;
  fraction: number;
  /** Matching requests seen (each took one draw of the fault's seeded stream). */
  matched: number;
  hits: number;
  created_at: string;
}

/** One request a fault hit. */
export interface ApiFaultHitTable {
  id: Generated<number>;
  org_id: number;
  fault_id: number;
  method: string;
  path: string;
  status: number | null;
  latency_ms: number;
  at: string;
}

/** The last event position handed out (one row, id 1). */
export interface EventPositionCounterTable {
  id: number;
  last_position: number;
}

/** An `openlinq listen` listener: its signing secret and the position of the last event it acknowledged. */
export interface EventListenerTable {
  id: Generated<number>;
  org_id: number;
  /** Unique per organization; the listener's `--name`. */
  name: string;
  /** The signing secret, sealed (storage/secret-box.ts). */
  sealed_secret: string;
  acked_position: number;
  acked_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A file uploaded ahead of the message that will carry it (V3 presigned upload). */
export interface AttachmentUploadTable {
  id: string;
  org_id: number;
  filename: string;
  content_type: string;
  size_bytes: number;
  /** pending | complete | failed */
  status: string;
  upload_secret_hash: string;
  expires_at: string;
  created_at: string;
  updated_at: string;
}

/** The name and photo one of our lines shares in chats (one card per line). */
export interface ContactCardTable {
  id: Generated<number>;
  org_id: number;
  phone_number_id: number;
  first_name: string;
  last_name: string | null;
  image_url: string | null;
  is_active: number;
  created_at: string;
  updated_at: string;
}

/** A delivery-side scenario an organization armed (src/core/scenarios). */
export interface DeliveryScenarioTable {
  id: Generated<number>;
  org_id: number;
  kind: string;
  chat_id: number;
  /** The message it played on (given, or the chat's next message of ours); null for delivery kinds. */
  message_id: number | null;
  /** message.failed code, for the kinds that fail a message. */
  code: number | null;
  delay_ms: number;
  /** armed | applied */
  status: string;
  /** JSON array of the ids of the events it made or shaped. */
  event_ids: string;
  created_at: string;
  applied_at: string | null;
}

export interface Database {
  organizations: OrganizationTable;
  users: UserTable;
  api_tokens: ApiTokenTable;
  secret_key_fingerprint: SecretKeyFingerprintTable;
  phone_numbers: PhoneNumberTable;
  chats: ChatTable;
  chat_handles: ChatHandleTable;
  messages: MessageTable;
  attachments: AttachmentTable;
  reactions: ReactionTable;
  contacts: ContactTable;
  webhook_subscriptions: WebhookSubscriptionTable;
  events: EventTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  handle_profiles: HandleProfileTable;
  device_signals: DeviceSignalTable;
  calls: CallTable;
  outbound_jobs: OutboundJobTable;
  carrier_events: CarrierEventTable;
  simulator_sends: SimulatorSendTable;
  api_faults: ApiFaultTable;
  api_fault_hits: ApiFaultHitTable;
  attachment_uploads: AttachmentUploadTable;
  contact_cards: ContactCardTable;
  delivery_scenarios: DeliveryScenarioTable;
  event_position_counter: EventPositionCounterTable;
  event_listeners: EventListenerTable;
}

export type ChatRow = Selectable<ChatTable>;
export type ChatHandleRow = Selectable<ChatHandleTable>;
export type MessageRow = Selectable<MessageTable>;
export type AttachmentRow = Selectable<AttachmentTable>;
export type ReactionRow = Selectable<ReactionTable>;
export type ContactRow = Selectable<ContactTable>;
export type ContactUpdate = Updateable<ContactTable>;
export type PhoneNumberRow = Selectable<PhoneNumberTable>;
export type UserRow = Selectable<UserTable>;
export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionTable>;
export type EventRow = Selectable<EventTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>;
export type HandleProfileRow = Selectable<HandleProfileTable>;
export type DeviceSignalRow = Selectable<DeviceSignalTable>;
export type CallRow = Selectable<CallTable>;
export type OutboundJobRow = Selectable<OutboundJobTable>;

export type ApiFaultRow = Selectable<ApiFaultTable>;
export type EventListenerRow = Selectable<EventListenerTable>;
