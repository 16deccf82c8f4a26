import type {
  LineReputation,
  LineStatus,
  Attachment,
  AttachmentUpload,
  ApiToken,
  Caller,
  ContactCard,
  Chat,
  ChatHandle,
  ChatParticipants,
  ChatWithHandles,
  Contact,
  DeliveryStatus,
  Message,
  MessageDetails,
  MessagePart,
  Organization,
  PhoneNumber,
  Reaction,
  ReactionType,
  Service,
  StoredEvent,
  User,
  WebhookSubscription,
} from "./model.ts";
import type { Call } from "./calls/call.ts";
import type { DeliveryScenario, NewDeliveryScenario, ScenarioKind } from "./scenarios/delivery-scenario.ts";
import type { DeviceSignal, DeviceSignalKind } from "./devices/device-signal.ts";

/**
 * Ports: what core needs from the outside world, as interfaces only. Adapters live in
 * src/storage (Store), src/transport (Transport) and src/app.ts (Clock, Ids).
 */

/**
 * Time. Every timestamp core writes and every delay anything waits for goes through here,
 * so tests and the virtual clock (OPENLINQ_CLOCK=virtual) control time completely.
 */
export interface Clock {
  now(): Date;
  /** Calls `fn` once `delayMs` of this clock's time has passed; returns a function that cancels it. */
  setTimer(delayMs: number, fn: () => void): () => void;
}

/** Identifiers and secrets. Injected so tests can make them deterministic. */
export interface Ids {
  /** A UUID v4 (events, attachments). */
  uuid(): string;
  /** A URL-safe random secret of `bytes` bytes of entropy (tokens, webhook secrets). */
  secret(bytes?: number): string;
}

/** How a message to a set of recipients travels, decided before the message is written. */
export interface Route {
  /** Service of the chat: the one every recipient can use (iMessage, RCS or SMS fallback). */
  service: Service;
  /** Service of each recipient handle; core updates chat_handles to match. */
  handleServices: ReadonlyMap<string, Service>;
}

/** What happened to a message of ours on its way: it reached the recipient, or could not. */
export type DeliveryOutcome = { status: "delivered"; at: Date } | { status: "service_unavailable" };

/** The carrier's answer to a send. */
export interface SendReceipt {
  /** The carrier's id of the message; later receipts name it. Stored on the message. */
  carrierMessageId: string;
  /** An outcome the carrier knew at once; otherwise a receipt follows (see recordDeliveryReceipt). */
  outcome?: DeliveryOutcome;
}

export interface OutboundMessage {
  orgId: number;
  chat: ChatWithHandles;
  message: MessageDetails;
  /**
   * Records the carrier's answer on our side (carrier id, an outcome known at once, its
   * event) inside `tx`. A carrier that writes its acceptance to this same database (the
   * simulator) calls it inside that transaction, so its acceptance and our record of it
   * commit together; a carrier that does not call it leaves the recording to core, which
   * does it in a transaction of its own once `send` returned.
   */
  recordReceipt?: (tx: Repositories, receipt: SendReceipt) => Promise<void>;
}

/** Things our side does in a chat that the other side's devices show. */
export type ChatSignal = "typing_started" | "typing_stopped" | "read" | "contact_card" | "location_request";

/**
 * The carrier network. Core decides the route before it writes a message, then the outbound
 * worker hands the carrier the message (`send`) and our chat signals, outside any
 * transaction, from the durable queue (src/outbound). What the carrier reports later —
 * delivered, failed, read, replies, reactions, typing — comes back through core's inbound
 * services (src/core/inbound), messages looked up by the carrier's id. The default adapter
 * is the simulator (src/transport/simulator); the instant adapter delivers everything at
 * once over iMessage. Core never asks which one it has.
 *
 * @example A carrier adapter's send
 *   async send({ message }) {
 *     const res = await carrier.post("/messages", { ..., idempotency_key: String(message.message.id) });
 *     return { carrierMessageId: res.id };
 *   }
 */
export interface Transport {
  /** Service a chat with these recipients uses (iMessage, RCS or SMS fallback). */
  serviceFor(orgId: number, handles: readonly string[]): Promise<Service>;
  /** Routing of a new message: the chat's service and each recipient's. Called before the message's transaction. */
  route(orgId: number, handles: readonly string[]): Promise<Route>;
  /**
   * Hands the message to the carrier. Called by the outbound worker outside any transaction,
   * at least once per message: a crash between the carrier's answer and its recording calls
   * it again for the same message, so adapters pass the message id as the carrier's
   * idempotency key (the same message must get the same answer). Throwing retries later.
   */
  send(outbound: OutboundMessage): Promise<SendReceipt>;
  /** Shows a signal of ours on the recipients' devices; from the outbound worker, at least once. */
  signal(chat: ChatWithHandles, signal: ChatSignal): Promise<void>;
  /** Whether a handle can receive iMessage. */
  supportsIMessage(orgId: number, handle: string): Promise<boolean>;
}

/** Work for the outbound worker, written in the transaction of the change that needs it. */
export interface NewOutboundJob {
  orgId: number;
  /** Which handler performs it (e.g. "message.send"). */
  kind: string;
  /** JSON-serialisable; what the handler needs. */
  payload: Record<string, unknown>;
  runAt: Date;
  maxAttempts?: number;
}

export interface OutboundJobRepository {
  /** Queues jobs; returns their ids, in order. */
  add(jobs: readonly NewOutboundJob[], now: Date): Promise<number[]>;
}

/**
 * Carrier events already applied, by the carrier's id for them. Marking one inside the
 * transaction that applies it makes the event apply once, however often it is reported:
 * concurrent reports of one event wait for each other and all but the first find it marked.
 */
export interface CarrierEventRepository {
  /** Marks the event applied; false when it was already (nothing to do again). */
  markApplied(orgId: number, carrierEventId: string, now: Date): Promise<boolean>;
}

/** The outbound worker, as core sees it. */
export interface OutboundWork {
  /**
   * Performs jobs the caller just committed, if they are due and nobody else holds them
   * (a send request answers with the carrier's first word); whatever it cannot run stays
   * queued for the worker. Never rejects. `loaded`: by job id, what the caller already
   * holds for it (a send's chat and message, see LoadedSend), handed to the job's handler so
   * it need not read it again.
   */
  runNow(jobIds: readonly number[], loaded?: ReadonlyMap<number, object>): Promise<void>;
}

/** Something a person watching the sandbox would see change (the inbox's live feed). */
export interface Activity {
  orgId: number;
  /**
   * message: created/updated/deleted; chat: created/updated; typing: either side; event: webhook event written;
   * delivery: webhook attempt made; profile: a simulated device's settings; reset: the org's sandbox was wiped and reseeded;
   * fault: an injected fault was added, removed, or hit a request; scenario: a delivery scenario was armed or removed.
   */
  kind: "message" | "chat" | "typing" | "event" | "delivery" | "contact" | "profile" | "reset" | "fault" | "scenario";
  chatId?: number;
  messageId?: number;
  eventId?: string;
  eventType?: string;
  /** Free-form details for the UI (e.g. typing: {handle, display}). */
  detail?: Record<string, unknown>;
}

/**
 * In-process, best-effort fan-out of Activity after commit. Not durable: the durable
 * record is the database; this only tells open inbox pages to refresh.
 */
export interface ActivityFeed {
  publish(activity: Activity): void;
  subscribe(orgId: number, listener: (activity: Activity) => void): () => void;
}

/** Uniform numbers in [0, 1). Seeded (OPENLINQ_RANDOM_SEED) so simulated jitter repeats exactly. */
export interface Random {
  next(): number;
}

/**
 * Wakes the webhook delivery worker. The store calls it after every commit that queued
 * deliveries; code that re-queues deliveries directly (resend, recover) calls it too.
 */
export interface OutboxSignal {
  notify(): void;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageRequest {
  page: number;
  perPage: number;
}

export interface OrganizationRepository {
  create(name: string, now: Date): Promise<Organization>;
  first(): Promise<Organization | undefined>;
  findById(id: number): Promise<Organization | undefined>;
  list(): Promise<Organization[]>;
}

export interface UserRepository {
  create(user: Omit<User, "id">, now: Date): Promise<User>;
  findByEmail(orgId: number, email: string): Promise<User | undefined>;
  findById(orgId: number, id: number): Promise<User | undefined>;
  /** The org's first admin: owner of contacts with no named owner, user of new numbers. */
  firstAdmin(orgId: number): Promise<User | undefined>;
}

/** Integration tokens; the storage keeps a keyed hash of each, never the token. */
export interface TokenRepository {
  create(orgId: number, token: string, label: string, now: Date): Promise<void>;
  findByToken(token: string): Promise<Caller | undefined>;
  /** The org's tokens, oldest first. */
  list(orgId: number): Promise<ApiToken[]>;
  /** Removes the org's token `id`; false when the org has no such token. */
  delete(orgId: number, id: number): Promise<boolean>;
  /** Labels of the org's tokens, oldest first ("cli", "first start", "OPENLINQ_TOKEN"). */
  labelsForOrg(orgId: number): Promise<string[]>;
}

export interface PhoneNumberRepository {
  create(number: { orgId: number; userId: number; phoneNumber: string }, now: Date): Promise<PhoneNumber>;
  listByOrg(orgId: number): Promise<PhoneNumber[]>;
  findById(orgId: number, id: number): Promise<PhoneNumber | undefined>;
  findByUuid(orgId: number, uuid: string): Promise<PhoneNumber | undefined>;
  /** Across organizations, for links that carry the UUID as their only secret. */
  findByUuidAnyOrg(uuid: string): Promise<PhoneNumber | undefined>;
  findByNumber(orgId: number, phoneNumber: string): Promise<PhoneNumber | undefined>;
  /** Across organizations: numbers are globally unique. */
  findAnyByNumber(phoneNumber: string): Promise<PhoneNumber | undefined>;
  setForwardingNumber(id: number, forwardingNumber: string | null, now: Date): Promise<PhoneNumber>;
  /** Sets the line's status and reputation. */
  setStanding(id: number, standing: { status: LineStatus; reputation: LineReputation }, now: Date): Promise<PhoneNumber>;
}

export interface NewChat {
  orgId: number;
  phoneNumberId: number;
  displayName: string | null;
  service: Service;
  isGroup: boolean;
  participantsKey: string;
  now: Date;
  /** Our number first (isMe), then the recipients. */
  handles: { handle: string; service: Service; isMe: boolean }[];
}

export interface ChatPageRequest {
  orgId: number;
  phoneNumberId?: number | undefined;
  /** Only chats where this handle is an active participant (not our number). */
  participant?: string | undefined;
  after?: { at: Date; id: number } | undefined;
  limit: number;
}

/** A chat, its participants and their contact names. */
export type ChatNamed = Omit<ChatWithHandles, "phoneNumber">;

export interface ChatRepository {
  /** Throws DomainError("conflict") when the participant set already has a chat. */
  create(chat: NewChat): Promise<Chat>;
  findById(orgId: number, id: number): Promise<Chat | undefined>;
  findByUuid(orgId: number, uuid: string): Promise<Chat | undefined>;
  /** The chat with its handles (ours included, in join order), in one read. */
  findWithHandles(orgId: number, id: number): Promise<ChatParticipants | undefined>;
  /** The same, addressed by the chat's UUID. */
  findByUuidWithHandles(orgId: number, uuid: string): Promise<ChatParticipants | undefined>;
  /** The chat with its handles and their contact names (as ContactRepository.namesFor), in one read. */
  findWithContactNames(orgId: number, id: number): Promise<ChatNamed | undefined>;
  /** The same, addressed by the chat's UUID. */
  findByUuidWithContactNames(orgId: number, uuid: string): Promise<ChatNamed | undefined>;
  findByParticipants(phoneNumberId: number, participantsKey: string): Promise<Chat | undefined>;
  /** How many chats one of our lines has. */
  countByPhoneNumber(phoneNumberId: number): Promise<number>;
  /** Up to `limit` chats of the org, most recent activity first, after the keyset `after`. */
  listPage(query: ChatPageRequest): Promise<Chat[]>;
  /** Sets a group's name and/or icon (undefined leaves a field as it is). */
  updateGroup(chatId: number, changes: { displayName?: string | undefined; groupChatIcon?: string | undefined }, now: Date): Promise<void>;
  /** Throws DomainError("conflict") when another chat of the line holds the key. */
  setParticipantsKey(chatId: number, participantsKey: string): Promise<void>;
  /**
   * Chats of the org that involve `handle`: those it currently takes part in (not as us) and,
   * when the handle is one of the org's lines, those sent from that line. Most recent
   * activity first.
   */
  listInvolving(orgId: number, handle: string, page: PageRequest): Promise<Page<Chat>>;
  /** Handles of each chat, ours included, in join order. */
  handlesFor(chatIds: readonly number[]): Promise<Map<number, ChatHandle[]>>;
  /**
   * Handles of each of these chats of one org, ours included, in join order, and the contact
   * names of all of them (as ContactRepository.namesFor gives them), in one read.
   */
  handlesWithNamesFor(
    orgId: number,
    chatIds: readonly number[],
  ): Promise<{ handles: Map<number, ChatHandle[]>; names: Map<string, string> }>;
  addHandle(chatId: number, handle: { handle: string; service: Service; isMe: boolean }, now: Date): Promise<ChatHandle>;
  markHandleLeft(handleId: number, now: Date): Promise<void>;
  /** Bumps message_count by `delta` and, when given, last activity. */
  recordActivity(chatId: number, delta: number, at: Date | null): Promise<void>;
  setService(chatId: number, service: Service, now: Date): Promise<void>;
  /** The service one participant uses (SMS fallback shows on the handle too). */
  setHandleService(handleId: number, service: Service): Promise<void>;
}

export interface MessageListQuery extends PageRequest {
  before?: Date;
  after?: Date;
  sort: "asc" | "desc";
}

/** A message to store: the V3 fields may be left out for a message in the V2 shape. */
export type NewMessage = Omit<Message, "id" | "uuid" | "parts" | "effect" | "replyTo" | "preferredService" | "editCount"> &
  Partial<Pick<Message, "parts" | "effect" | "replyTo" | "preferredService">>;

export interface MessageRepository {
  /** Throws DomainError("conflict") when the idempotency key is already used in the org. */
  create(message: NewMessage): Promise<Message>;
  findById(orgId: number, id: number): Promise<Message | undefined>;
  findByUuid(orgId: number, uuid: string): Promise<Message | undefined>;
  findByIdempotencyKey(orgId: number, key: string): Promise<Message | undefined>;
  findByCarrierId(orgId: number, carrierMessageId: string): Promise<Message | undefined>;
  /** Records the carrier's id unless the message has one already; true when it was set. */
  setCarrierId(id: number, carrierMessageId: string): Promise<boolean>;
  /**
   * The carrier's first answer in one write: its id and, with `outcome`, the delivery
   * status, stored only while the message is ours, has no carrier id and (with an outcome)
   * is still pending. Returns the message as it now is; undefined when nothing was changed
   * (gone, sent before, no longer pending), for the caller to look at the row itself.
   */
  recordCarrierReceipt(orgId: number, id: number, carrierMessageId: string, outcome?: DeliveryOutcome): Promise<Message | undefined>;
  listByChat(chatId: number, query: MessageListQuery): Promise<Page<Message>>;
  /** Marks unread inbound messages of a chat read; returns those it changed. */
  markChatRead(chatId: number, at: Date): Promise<Message[]>;
  /** Marks unread outbound messages of a chat read (the recipient read them); returns those it changed. */
  markOutboundRead(chatId: number, at: Date): Promise<Message[]>;
  updateText(id: number, text: string, editedAt: Date): Promise<void>;
  /** Replaces the parts and their V2 text together (an edit). */
  updateParts(id: number, parts: MessagePart[], text: string, editedAt: Date): Promise<void>;
  /** Messages of a chat that reply to any of these message UUIDs. */
  listReplies(chatId: number, uuids: readonly string[]): Promise<Message[]>;
  updateDelivery(id: number, status: DeliveryStatus, deliveredAt: Date | null): Promise<void>;
  /** Marks one outbound message read by the recipient, whatever its delivery status (a receipt can come early). */
  markRead(id: number, at: Date): Promise<void>;
  delete(id: number): Promise<void>;
  /** The sender handle of each message. */
  sendersFor(messageIds: readonly number[]): Promise<Map<number, string>>;
}

export interface AttachmentUploadRepository {
  create(upload: AttachmentUpload, secretHash: string): Promise<void>;
  findById(orgId: number, id: string): Promise<AttachmentUpload | undefined>;
  /** Any organization's upload with the hash of its URL secret (the upload URL carries no token). */
  findWithSecret(id: string): Promise<{ upload: AttachmentUpload; secretHash: string } | undefined>;
  setStatus(id: string, status: AttachmentUpload["status"], now: Date): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface ContactCardRepository {
  list(orgId: number, phoneNumberId?: number): Promise<ContactCard[]>;
  findByPhoneNumber(phoneNumberId: number): Promise<ContactCard | undefined>;
  /** Throws DomainError("contact_card_exists") when the line has one. */
  create(card: Omit<ContactCard, "phoneNumber">, now: Date): Promise<void>;
  update(
    phoneNumberId: number,
    changes: { firstName?: string | undefined; lastName?: string | null | undefined; imageUrl?: string | null | undefined },
    now: Date,
  ): Promise<void>;
}

export interface AttachmentRepository {
  createMany(attachments: Attachment[]): Promise<void>;
  delete(id: string): Promise<void>;
  listForMessages(messageIds: readonly number[]): Promise<Map<number, Attachment[]>>;
  findById(id: string): Promise<Attachment | undefined>;
  /** Which of these file keys an attachment row names (the rest are orphans). */
  existingStorageKeys(keys: readonly string[]): Promise<Set<string>>;
}

/** A reaction to store; a tapback in the V2 shape may leave out the V3 fields. */
export type NewReaction = Omit<Reaction, "id" | "customEmoji" | "partIndex"> &
  Partial<Pick<Reaction, "customEmoji" | "partIndex">>;

export interface ReactionRepository {
  create(reaction: NewReaction): Promise<Reaction>;
  findById(orgId: number, id: number): Promise<Reaction | undefined>;
  listForMessages(messageIds: readonly number[]): Promise<Map<number, Reaction[]>>;
  /** Reactions one participant left on one message. */
  listByHandle(messageId: number, chatHandleId: number): Promise<Reaction[]>;
  delete(id: number): Promise<void>;
}

export interface ContactFields {
  firstName: string;
  lastName: string;
  email: string;
  phoneNumber: string;
  company: string;
  title: string;
  location: string;
}

export interface ContactRepository {
  create(orgId: number, ownerUserId: number | null, fields: ContactFields, now: Date): Promise<Contact>;
  findById(orgId: number, id: number): Promise<Contact | undefined>;
  list(orgId: number, page: PageRequest): Promise<Page<Contact>>;
  update(orgId: number, id: number, changes: Partial<ContactFields> & { ownerUserId?: number | null }, now: Date): Promise<Contact>;
  delete(orgId: number, id: number): Promise<void>;
  /** First contact (lowest id) whose email or phone matches; either may be omitted. */
  find(orgId: number, by: { email?: string; phoneNumber?: string }): Promise<Contact | undefined>;
  /**
   * Full names ("First Last", trimmed, non-empty) of the contacts whose phone number or email is
   * one of these handles; the first contact (lowest id) wins when several match one handle.
   */
  namesFor(orgId: number, handles: readonly string[]): Promise<Map<string, string>>;
}

export interface NewWebhookSubscription {
  orgId: number;
  webhookUrl: string;
  version: number;
  events: string[];
  active: boolean;
  secret: string | null;
  phoneNumbers?: string[] | null;
}

export interface WebhookSubscriptionRepository {
  create(subscription: NewWebhookSubscription, now: Date): Promise<WebhookSubscription>;
  list(orgId: number): Promise<WebhookSubscription[]>;
  findById(orgId: number, id: number): Promise<WebhookSubscription | undefined>;
  findByUuid(orgId: number, uuid: string): Promise<WebhookSubscription | undefined>;
  update(
    orgId: number,
    id: number,
    changes: Partial<Omit<NewWebhookSubscription, "orgId">>,
    now: Date,
  ): Promise<WebhookSubscription>;
  delete(orgId: number, id: number): Promise<void>;
  /** Active subscriptions of the org, oldest first (each face decides which events it gets). */
  listActive(orgId: number): Promise<WebhookSubscription[]>;
}

/** One delivery of an event, rendered by the subscription's face. */
export interface NewDelivery {
  subscriptionId: number;
  /** The face's name of the event type. */
  eventType: string;
  /** The exact bytes every attempt sends and signs. */
  body: string;
  /** Due later than the event's creation (a delivery scenario); default: at once. */
  dueAt?: Date;
  /** False: does not wait for, nor hold back, the chat's other deliveries (a scenario reorders it). Default true. */
  ordered?: boolean;
  /** The delivery scenario that shaped it. */
  scenarioId?: number;
}

/** Delivery-side scenarios (src/core/scenarios). */
export interface DeliveryScenarioRepository {
  create(scenario: NewDeliveryScenario): Promise<DeliveryScenario>;
  findById(orgId: number, id: number): Promise<DeliveryScenario | undefined>;
  /** The org's scenarios, oldest first. */
  list(orgId: number): Promise<DeliveryScenario[]>;
  delete(orgId: number, id: number): Promise<boolean>;
  /** The chat's oldest armed scenario of one of these kinds. */
  nextArmed(chatId: number, kinds: readonly ScenarioKind[]): Promise<DeliveryScenario | undefined>;
  /** Marks it applied (the first time) and adds what it did: the message it played on, the events it made or shaped. */
  recordApplied(id: number, change: { messageId?: number; eventIds: readonly string[] }, now: Date): Promise<void>;
}

export interface EventRepository {
  /** Writes the event and one pending delivery each, due at `event.createdAt`. */
  append(event: StoredEvent, deliveries: readonly NewDelivery[]): Promise<void>;
}

/** One row of the inbox's chat list. */
export interface ChatSummary {
  chat: Chat;
  /** Inbound messages not yet marked read. */
  unreadCount: number;
  /** Newest message by sent time, either side; null for a chat without messages. */
  lastMessage: Message | null;
}

export interface ChatSummaryQuery {
  orgId: number;
  /** Only chats of this number of ours; all of the org's numbers when omitted. */
  phoneNumberId?: number;
  /** Case-insensitive match on the chat name, participants (digits too) or any message text. */
  search?: string;
  limit: number;
  offset: number;
}

/** Read-only views for the web inbox that the V2 resources have no shape for. */
export interface InboxRepository {
  /** The org's chats, most recent activity first. */
  listChatSummaries(query: ChatSummaryQuery): Promise<Page<ChatSummary>>;
  /** Up to `limit` messages of a chat older than `before` (newest first), keyset-paged on (sent_at, id). */
  listThreadPage(chatId: number, limit: number, before?: { sentAt: Date; id: number }): Promise<Message[]>;
}

/** What simulated devices show (see core/devices/device-signal.ts). */
export interface DeviceSignalRepository {
  /** Writes the signal, replacing the one of the same chat, handle and kind. */
  put(signal: DeviceSignal): Promise<void>;
  /** Returns the removed signal, if there was one. */
  remove(chatId: number, handle: string, kind: DeviceSignalKind): Promise<DeviceSignal | undefined>;
  find(chatId: number, handle: string, kind: DeviceSignalKind): Promise<DeviceSignal | undefined>;
  listForHandle(orgId: number, handle: string): Promise<DeviceSignal[]>;
}

export interface CallRepository {
  create(call: Omit<Call, "id">): Promise<Call>;
}

/** What POST /openlinq/v1/reset removed. */
export interface WipeSummary {
  chats: number;
  messages: number;
  contacts: number;
  events: number;
  profiles: number;
  calls: number;
  /** Attachment files to delete once the wipe has committed. */
  attachmentStorageKeys: string[];
}

export interface SandboxRepository {
  /** Deletes the org's chats, messages, contacts, events (and deliveries), profiles, device signals and calls. */
  wipeOrganization(orgId: number): Promise<WipeSummary>;
  /** True when the org has no chats, contacts or profiles yet (the seed file may be loaded). */
  isPristine(orgId: number): Promise<boolean>;
}

/** Every repository, bound to one connection or transaction. */
export interface Repositories {
  organizations: OrganizationRepository;
  users: UserRepository;
  tokens: TokenRepository;
  phoneNumbers: PhoneNumberRepository;
  chats: ChatRepository;
  messages: MessageRepository;
  attachments: AttachmentRepository;
  attachmentUploads: AttachmentUploadRepository;
  contactCards: ContactCardRepository;
  reactions: ReactionRepository;
  contacts: ContactRepository;
  webhookSubscriptions: WebhookSubscriptionRepository;
  events: EventRepository;
  inbox: InboxRepository;
  deviceSignals: DeviceSignalRepository;
  calls: CallRepository;
  sandbox: SandboxRepository;
  outboundJobs: OutboundJobRepository;
  carrierEvents: CarrierEventRepository;
  deliveryScenarios: DeliveryScenarioRepository;
}

/**
 * The store. Reads may go through `read`; every change goes through `transaction`, so a
 * change and the events it causes commit together or not at all.
 */
export interface Store {
  readonly read: Repositories;
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
}

/**
 * A file streamed to the store's staging area: its bytes are on disk, never whole in memory,
 * and what core needs to judge it was learnt while writing.
 */
export interface StagedFile {
  /** The staging key; `adopt` turns the file into a stored attachment, `discard` drops it. */
  key: string;
  size: number;
  /** The type its bytes prove (magic numbers), if any. */
  detected: { mime: string; ext: string } | undefined;
  /** True when the bytes are UTF-8 text without NUL (types that have no magic numbers). */
  utf8Text: boolean;
}

/** Files of attachments, kept outside the database. */
export interface FileStore {
  /**
   * Streams bytes into a file without holding them in memory; stops with
   * DomainError("attachment_too_large") past `maxBytes` (the partial file is removed).
   * Returns the number of bytes written.
   */
  putStream(key: string, source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number>;
  copy(fromKey: string, toKey: string): Promise<void>;
  /**
   * Streams `source` into staging. Past `maxBytes` it stops, keeps nothing and throws
   * attachment_too_large naming `what`.
   */
  stage(source: AsyncIterable<Uint8Array>, options: { maxBytes: number; what: string }): Promise<StagedFile>;
  /** Moves a staged file into the store under `key` (a rename, no copy). */
  adopt(stagedKey: string, key: string): Promise<void>;
  /** Drops a staged file; nothing happens when it was adopted already. */
  discard(stagedKey: string): Promise<void>;
  /** Absolute path of a stored file, for streaming it back. */
  pathOf(key: string): string;
  /** A stored file's bytes, whole (sandbox export). */
  read(key: string): Promise<Uint8Array>;
  remove(key: string): Promise<void>;
}
