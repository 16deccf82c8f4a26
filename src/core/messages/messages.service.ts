import {
  MAX_ATTACHMENTS_PER_MESSAGE,
  prepareAttachments,
  removeAttachmentFiles,
  storeAttachmentFiles,
  type IncomingFile,
  type PreparedAttachment,
} from "../attachments/attachments.ts";
import { loadChat, loadMessageDetails, loadParticipants } from "../chats/chat-loading.ts";
import { otherParticipants, ourHandle } from "../chats/chat-names.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError, fieldError, notFound } from "../errors.ts";
import type { Attachment, ChatParticipants, ChatWithHandles, MessageDetails, MessageEffect, MessagePart, ReplyTo, Service } from "../model.ts";
import { appCardOf, messageParts, validateEffect, validateParts, type OutgoingPart } from "./parts.ts";
import { linkUploads } from "../attachments/uploads.service.ts";
import type { MessageListQuery, Page, Repositories, Route } from "../ports.ts";
import { emitEvent } from "../webhooks/events.ts";
import { chatFacts, messageFacts } from "../events/domain-events.ts";
import { sendMessageJob, type LoadedSend } from "./outbound.service.ts";
import { emitMessageEdited, requireEditable } from "./edit-events.ts";

export interface OutgoingMessage {
  /** For a message with `parts`: the text parts joined (textOfParts). */
  text: string;
  idempotencyKey?: string | undefined;
  uploads: IncomingFile[];
  /** For a message with `parts`: the URLs of its media parts, in order. */
  attachmentUrls: string[];
  /**
   * The parts in order (V3). Without them the message is its text followed by its files
   * (V2). Media parts by URL become attachments downloaded from `attachmentUrls`.
   */
  parts?: OutgoingPart[] | undefined;
  effect?: MessageEffect | undefined;
  replyTo?: ReplyTo | undefined;
  preferredService?: Service | undefined;
  /** A voice memo: every file must be audio. */
  audioOnly?: boolean | undefined;
}

function requireAudio(mimeTypes: readonly string[]): void {
  const other = mimeTypes.find((type) => !type.startsWith("audio/"));
  if (other !== undefined || mimeTypes.length === 0) {
    throw new DomainError("attachment_type_not_allowed", `A voice memo must be an audio file, not ${other ?? "nothing"}`);
  }
}

const IDEMPOTENCY_KEY = /^[a-zA-Z0-9_-]{1,255}$/;
export const MAX_TEXT_LENGTH = 20_000;

/** Checks what can be checked without I/O; throws validation_failed naming the domain field (`message.text`, …). */
export function validateOutgoing(message: OutgoingMessage): void {
  if (message.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(message.idempotencyKey)) {
    throw fieldError("validation_failed", "message.idempotencyKey", " must match ^[a-zA-Z0-9_-]+$ (at most 255 characters)");
  }
  if (message.parts !== undefined) {
    validateParts(message.parts, "message.parts");
    if (message.effect !== undefined) validateEffect(message.effect, "message.effect");
    if (isAppCard(message) && message.preferredService !== undefined && message.preferredService !== "iMessage") {
      throw fieldError("app_card_requires_imessage", "message.preferredService", ": an iMessage app card can only go over iMessage");
    }
    return;
  }
  const attachmentCount = message.uploads.length + message.attachmentUrls.length;
  if (message.text.trim() === "" && attachmentCount === 0) {
    throw fieldError("validation_failed", "message.text", " is required (it may be empty only with attachments)");
  }
  if (attachmentCount > MAX_ATTACHMENTS_PER_MESSAGE) {
    throw fieldError(
      "validation_failed",
      message.uploads.length > 0 ? "message.attachments" : "message.attachmentUrls",
      `: a message carries at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments (files and URLs together); got ${attachmentCount}`,
    );
  }
  if (message.text.length > MAX_TEXT_LENGTH) {
    throw fieldError("validation_failed", "message.text", ` is longer than ${MAX_TEXT_LENGTH} characters`);
  }
  for (const url of message.attachmentUrls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw fieldError("validation_failed", "message.attachmentUrls", `: "${url}" is not an http(s) URL`);
    }
  }
}

function isAppCard(message: OutgoingMessage): boolean {
  return message.parts?.[0]?.type === "imessage_app";
}

/**
 * An app card goes over iMessage or not at all: when the network would carry the message
 * over SMS or RCS (a recipient without iMessage), the send is refused before anything is
 * written instead of arriving as something else.
 */
function requireCardRoute(message: OutgoingMessage, route: Route): void {
  if (isAppCard(message) && route.service !== "iMessage") {
    throw new DomainError(
      "message_type_not_supported",
      `An iMessage app card cannot be sent over ${route.service}: every recipient must use iMessage`,
    );
  }
}

/** What a card's preview image may be (Messages shows no other type there). */
const CARD_IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/heic", "image/heif", "image/webp"]);

/**
 * A card's `imageUrl` must answer with an image Messages can show: it is downloaded (with the
 * guards of attachment downloads, so an unreachable URL is attachment_download_failed) and
 * its bytes must prove JPEG, PNG, HEIF or WebP. The URL itself is what the card keeps.
 */
async function checkAppCardImage(deps: CoreDeps, message: OutgoingMessage): Promise<void> {
  const card = message.parts?.[0];
  if (card?.type !== "imessage_app" || card.layout.imageUrl === undefined) return;
  const fetched = await deps.fetchAttachment(card.layout.imageUrl);
  await deps.files.discard(fetched.staged.key).catch(() => undefined);
  const type = fetched.staged.detected?.mime;
  if (type === undefined || !CARD_IMAGE_TYPES.has(type)) {
    throw fieldError("invalid_app_card", "message.parts[0].layout.imageUrl", ` must be a JPEG, PNG, HEIF or WebP image, not ${type ?? "something else"}`);
  }
}

/** Files checked and written before the transaction; removed again if it fails. */
export async function prepareOutgoingFiles(deps: CoreDeps, message: OutgoingMessage): Promise<PreparedAttachment[]> {
  return prepareAttachments(deps, message.uploads, message.attachmentUrls);
}

/**
 * Writes an outbound message into a chat inside `tx`: the message row (pending until the
 * carrier answers), its attachments, the chat's counters, the message.sent event and the
 * queued send. `route` was decided before the transaction. Returns the queued job ids with
 * the message, for `runSend` to run after commit.
 */
export async function writeOutboundMessage(
  deps: CoreDeps,
  tx: Repositories,
  chat: ChatWithHandles,
  message: OutgoingMessage,
  attachmentRows: Awaited<ReturnType<typeof storeAttachmentFiles>>,
  route: Route,
): Promise<{ message: MessageDetails; jobIds: number[] }> {
  requireCardRoute(message, route);
  const now = deps.clock.now();
  if (route.service !== chat.chat.service) {
    await tx.chats.setService(chat.chat.id, route.service, now);
    chat.chat.service = route.service;
  }
  for (const handle of chat.handles) {
    const service = route.handleServices.get(handle.handle);
    if (service && service !== handle.service && !handle.isMe && handle.leftAt === null) {
      await tx.chats.setHandleService(handle.id, service);
      handle.service = service;
    }
  }
  const mine = ourHandle(chat);
  if (mine.leftAt !== null) throw new DomainError("chat_unavailable", "You left this chat; it is no longer available");
  if (message.replyTo) await requireReplyTarget(tx, chat, message.replyTo);
  const stored = await tx.messages.create({
    orgId: chat.chat.orgId,
    chatId: chat.chat.id,
    chatHandleId: mine.id,
    isFromMe: true,
    text: message.text,
    sentAt: now,
    deliveredAt: null,
    deliveryStatus: "pending",
    editedAt: null,
    isRead: false,
    readAt: null,
    idempotencyKey: message.idempotencyKey ?? null,
    parts: message.parts ? resolveMediaUrls(message.parts, attachmentRows(0, chat.chat.orgId, now)) : null,
    effect: message.effect ?? null,
    replyTo: message.replyTo ?? null,
    preferredService: message.preferredService ?? null,
  });
  const attachments = attachmentRows(stored.id, chat.chat.orgId, now);
  if (stored.parts) {
    // V2 lists attachments by position: keep the order of the media parts.
    const order = stored.parts.flatMap((p) => (p.type === "media" ? [p.attachmentId] : []));
    attachments.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  }
  await tx.attachments.createMany(attachments);
  await tx.chats.recordActivity(chat.chat.id, 1, now);
  chat.chat.messageCount += 1;
  chat.chat.lastActivityAt = now;
  const details: MessageDetails = { message: stored, sender: mine.handle, attachments, reactions: [] };
  const event = { type: "message.sent", chat: chatFacts(chat), message: messageFacts(details, deps.links) } as const;
  await emitEvent(tx, deps, chat.chat.orgId, event, chat.chat.id);
  const jobIds = await tx.outboundJobs.add([sendMessageJob(chat.chat.orgId, stored.id, now)], now);
  return { message: details, jobIds };
}

/** A reply answers a message of the same chat, and one of its parts. */
async function requireReplyTarget(tx: Repositories, chat: ChatWithHandles, replyTo: ReplyTo): Promise<void> {
  const target = await tx.messages.findByUuid(chat.chat.orgId, replyTo.messageUuid);
  if (!target || target.chatId !== chat.chat.id) {
    throw new DomainError("message_not_found", "message.replyTo.messageId: no such message in this chat", {
      field: "message.replyTo.messageId",
      reason: ": no such message in this chat",
    });
  }
  const parts = messageParts(target, (await tx.attachments.listForMessages([target.id])).get(target.id) ?? []);
  if (replyTo.partIndex >= parts.length) {
    throw new DomainError("validation_failed", `message.replyTo.partIndex: the message has ${parts.length} parts`, {
      field: "message.replyTo.partIndex",
      reason: `: the message has ${parts.length} parts`,
    });
  }
}

/**
 * Stored parts point at attachments: media parts given by URL take the ids of the files
 * downloaded from them, in order (`prepared` lists the URL downloads in part order).
 */
function resolveMediaUrls(parts: readonly OutgoingPart[], attachments: readonly Attachment[]): MessagePart[] {
  const linked = new Set(parts.flatMap((p) => (p.type === "media" && "attachmentId" in p ? [p.attachmentId] : [])));
  const prepared = attachments.filter((a) => !linked.has(a.id));
  let next = 0;
  return parts.map((part) => (part.type === "media" && "url" in part ? { type: "media", attachmentId: prepared[next++]!.id } : part));
}

export interface SendResult {
  chat: ChatWithHandles;
  message: MessageDetails;
  /** True when an idempotency key matched an earlier message, which is returned unchanged. */
  replayed: boolean;
}

/**
 * The earlier message sent with this idempotency key, if any. A replay answers it
 * unchanged, but only for the same target: a key already used in another chat is a
 * conflict (409), never that other chat's message.
 */
async function findReplay(deps: CoreDeps, orgId: number, key: string | undefined, sameTarget: (chat: ChatWithHandles) => boolean) {
  if (key === undefined) return undefined;
  const existing = await deps.store.read.messages.findByIdempotencyKey(orgId, key);
  if (!existing) return undefined;
  const chat = await loadChat(deps.store.read, orgId, existing.chatId);
  if (!sameTarget(chat)) {
    throw new DomainError(
      "conflict",
      `idempotency_key "${key}" was already used for message ${existing.id} in chat ${existing.chatId}; use a new key for a different chat`,
      { field: "idempotency_key" },
    );
  }
  const [details] = await loadMessageDetails(deps.store.read, [existing]);
  return { chat, message: details!, replayed: true };
}

/**
 * Runs a send: replay check, files, one transaction, then the transport and the worker.
 * `write` does the transactional part; a unique-key conflict (a concurrent identical
 * request) resolves to the message that won.
 */
export async function runSend(
  deps: CoreDeps,
  orgId: number,
  message: OutgoingMessage,
  write: (tx: Repositories, attachmentRows: Awaited<ReturnType<typeof storeAttachmentFiles>>) => Promise<{
    chat: ChatWithHandles;
    message: MessageDetails;
    jobIds: number[];
  }>,
  /** Whether a chat is the one this send targets (an idempotency replay must be). */
  sameTarget: (chat: ChatWithHandles) => boolean,
): Promise<SendResult> {
  const replay = await findReplay(deps, orgId, message.idempotencyKey, sameTarget);
  if (replay) return replay;
  await checkAppCardImage(deps, message);
  const uploaded = (message.parts ?? []).flatMap((part, i) =>
    part.type === "media" && "attachmentId" in part ? [{ id: part.attachmentId, field: `message.parts[${i}].attachmentId` }] : [],
  );
  const linked = await linkUploads(deps, orgId, uploaded);
  let prepared: Awaited<ReturnType<typeof prepareOutgoingFiles>>;
  try {
    prepared = await prepareOutgoingFiles(deps, message);
    if (message.audioOnly) requireAudio([...prepared.map((p) => p.mimeType), ...[...linked.attachments.values()].map((a) => a.mimeType)]);
  } catch (error) {
    await linked.remove();
    throw error;
  }
  if (message.parts && linked.attachments.size > 0) {
    // The parts now name the message's own copies; the write closures read this same object.
    message.parts = message.parts.map((part) =>
      part.type === "media" && "attachmentId" in part ? { ...part, attachmentId: linked.attachments.get(part.attachmentId)!.id } : part,
    );
  }
  const fileRows = await storeAttachmentFiles(deps, prepared);
  const attachmentRows: typeof fileRows = (messageId, rowOrgId, now) => [
    ...fileRows(messageId, rowOrgId, now),
    ...[...linked.attachments.values()].map((a) => ({ ...a, messageId, createdAt: now })),
  ];
  let written: { chat: ChatWithHandles; message: MessageDetails; jobIds: number[] };
  try {
    written = await deps.store.transaction((tx) => write(tx, attachmentRows));
  } catch (error) {
    await removeAttachmentFiles(deps, prepared);
    await linked.remove();
    if (error instanceof DomainError && error.code === "conflict") {
      const winner = await findReplay(deps, orgId, message.idempotencyKey, sameTarget);
      if (winner) return winner;
    }
    throw error;
  }
  // The carrier gets the message now, so the answer shows its first word (delivered at once,
  // or failed); if it cannot be sent now the queue keeps it and the answer says pending.
  // The job gets the chat and message as written (no reading them again); it hands back the
  // message as the carrier's receipt left it. A job run elsewhere leaves it to be read.
  const loaded: LoadedSend = { chat: written.chat, message: written.message };
  await deps.outbound.runNow(written.jobIds, new Map(written.jobIds.map((id) => [id, loaded])));
  const sent = loaded.recorded ?? (await deps.store.read.messages.findById(orgId, written.message.message.id));
  const details = sent ? { ...written.message, message: sent } : written.message;
  deps.activity.publish({ orgId, kind: "message", chatId: written.chat.chat.id, messageId: details.message.id });
  return { chat: written.chat, message: details, replayed: false };
}

/**
 * `checked`: the chat as the caller already read it to check it (V3 asks whether we left it);
 * otherwise it is read here. Either way the transaction reads it again.
 */
export async function sendMessage(
  deps: CoreDeps,
  orgId: number,
  chatId: number,
  message: OutgoingMessage,
  checked?: ChatParticipants,
): Promise<SendResult> {
  validateOutgoing(message);
  // An unknown chat is reported before any download (the transaction checks again), and
  // the route is decided before the transaction: it needs the participants, not their names.
  const current = checked ?? (await loadParticipants(deps.store.read, orgId, chatId));
  const route = await deps.transport.route(orgId, otherParticipants(current).map((h) => h.handle));
  return runSend(deps, orgId, message, async (tx, attachmentRows) => {
    const chat = await loadChat(tx, orgId, chatId);
    const written = await writeOutboundMessage(deps, tx, chat, message, attachmentRows, route);
    return { chat, ...written };
  }, (chat) => chat.chat.id === chatId);
}

export async function listMessages(
  deps: CoreDeps,
  orgId: number,
  chatId: number,
  query: MessageListQuery,
): Promise<Page<MessageDetails>> {
  const repos = deps.store.read;
  const chat = await loadChat(repos, orgId, chatId);
  const page = await repos.messages.listByChat(chatId, query);
  return { items: await loadMessageDetails(repos, page.items, chat.handles), total: page.total };
}

async function loadMessageInChat(repos: Repositories, orgId: number, chatId: number, messageId: number) {
  await loadChat(repos, orgId, chatId);
  const message = await repos.messages.findById(orgId, messageId);
  if (!message || message.chatId !== chatId) throw notFound("message_not_found", "Message not found");
  return message;
}

export async function getMessage(
  deps: CoreDeps,
  orgId: number,
  chatId: number,
  messageId: number,
): Promise<MessageDetails> {
  const message = await loadMessageInChat(deps.store.read, orgId, chatId, messageId);
  const [details] = await loadMessageDetails(deps.store.read, [message]);
  return details!;
}

/** Removes the message from our store (and its files); the recipient's copy is not recalled. */
export async function deleteMessage(deps: CoreDeps, orgId: number, chatId: number, messageId: number): Promise<void> {
  const attachments = await deps.store.transaction(async (tx) => {
    const message = await loadMessageInChat(tx, orgId, chatId, messageId);
    const files = (await tx.attachments.listForMessages([message.id])).get(message.id) ?? [];
    await tx.messages.delete(message.id);
    await tx.chats.recordActivity(chatId, -1, null);
    return files;
  });
  await Promise.all(attachments.map((a) => deps.files.remove(a.storageKey).catch(() => undefined)));
  deps.activity.publish({ orgId, kind: "message", chatId, messageId });
}

/**
 * A V2 edit of a message that has parts: the new text takes the place of its text parts
 * (at the first one; a message without text gets it in front), its other parts stay.
 */
function replaceText(parts: readonly MessagePart[], text: string): MessagePart[] {
  const first = parts.findIndex((p) => p.type === "text");
  const kept = parts.filter((p) => p.type !== "text");
  const at = first === -1 ? 0 : parts.slice(0, first).filter((p) => p.type !== "text").length;
  return [...kept.slice(0, at), { type: "text", value: text }, ...kept.slice(at)];
}

export async function editMessage(
  deps: CoreDeps,
  orgId: number,
  chatId: number,
  messageId: number,
  text: string,
): Promise<{ id: number; text: string }> {
  if (text.trim() === "") {
    throw fieldError("validation_failed", "text", " must not be empty");
  }
  if (text.length > MAX_TEXT_LENGTH) {
    throw fieldError("validation_failed", "text", ` is longer than ${MAX_TEXT_LENGTH} characters`);
  }
  const edited = await deps.store.transaction(async (tx) => {
    const message = await loadMessageInChat(tx, orgId, chatId, messageId);
    if (!message.isFromMe) {
      throw new DomainError("validation_failed", "only messages sent from your number can be edited");
    }
    if (appCardOf(message.parts)) {
      throw new DomainError("validation_failed", "an iMessage app card has no text to edit; update the card through V3 instead");
    }
    requireEditable(message, deps.clock.now());
    let partIndex = 0;
    if (message.parts === null) await tx.messages.updateText(message.id, text, deps.clock.now());
    else {
      const parts = replaceText(message.parts, text);
      partIndex = parts.findIndex((p) => p.type === "text");
      await tx.messages.updateParts(message.id, parts, text, deps.clock.now());
    }
    await emitMessageEdited(tx, deps, orgId, message.id, { previousText: message.text, partIndex, partText: text });
    return { id: message.id, text };
  });
  deps.activity.publish({ orgId, kind: "message", chatId, messageId });
  return edited;
}
