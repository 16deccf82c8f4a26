import { loadChat, loadMessageDetails } from "../chats/chat-loading.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import { REACTION_TYPES, type ChatWithHandles, type MessageDetails, type Reaction, type ReactionType } from "../model.ts";
import { normalizeExternalHandle } from "../handles.ts";
import { changeTapback } from "../messages/reactions.service.ts";
import { chatFacts, handleFacts, messageFacts } from "../events/domain-events.ts";
import { activeParticipant, emitRef, requireRichService, type EventRef } from "./inbound.ts";

/** What a participant does in a chat besides writing: tapbacks, typing, read receipts. */

export interface ReceivedReaction {
  chat: ChatWithHandles;
  reaction: Reaction;
  operation: "add" | "remove";
  events: EventRef[];
}

/**
 * A participant adds or removes a tapback: reaction.received (with `operation`, like our
 * reaction.sent). One tapback per person per message, as in iMessage: adding replaces theirs,
 * and the removal of the old one is told first (see changeTapback).
 */
export async function receiveReaction(
  deps: CoreDeps,
  orgId: number,
  input: ReactionInput,
): Promise<ReceivedReaction> {
  return (await applyReaction(deps, orgId, input))!;
}

/**
 * A tapback the carrier reports under its id for the event: applied once, however often
 * it is reported (a queued step repeated after a crash, two workers on one lapsed claim).
 * Resolves false for a repeat, which changes nothing even if the tapback was taken back since.
 */
export async function receiveCarrierReaction(
  deps: CoreDeps,
  orgId: number,
  input: ReactionInput & { carrierEventId: string },
): Promise<boolean> {
  return (await applyReaction(deps, orgId, input)) !== undefined;
}

interface ReactionInput {
  from: string;
  messageId: number;
  type: ReactionType;
  operation: "add" | "remove";
}

/** Undefined when the carrier event was applied before. */
async function applyReaction(
  deps: CoreDeps,
  orgId: number,
  input: ReactionInput & { carrierEventId?: string },
): Promise<ReceivedReaction | undefined> {
  const from = await normalizeExternalHandle(deps.store.read, orgId, input.from, "from");
  if (!REACTION_TYPES.includes(input.type)) {
    throw new DomainError("validation_failed", `type must be one of ${REACTION_TYPES.join(", ")}`, { field: "type" });
  }
  if (input.operation !== "add" && input.operation !== "remove") {
    throw new DomainError("validation_failed", "operation must be add or remove", { field: "operation" });
  }
  const result = await deps.store.transaction(async (tx) => {
    // First, so a concurrent repeat waits here for this one's commit, then finds it marked.
    if (input.carrierEventId !== undefined && !(await tx.carrierEvents.markApplied(orgId, input.carrierEventId, deps.clock.now()))) {
      return undefined;
    }
    const message = await tx.messages.findById(orgId, input.messageId);
    if (!message) throw notFound("message_not_found", "Chat message not found");
    const chat = await loadChat(tx, orgId, message.chatId);
    const change = await changeTapback(tx, deps, {
      orgId,
      chat,
      message,
      reactor: activeParticipant(chat, from, "from"),
      type: input.type,
      operation: input.operation,
      eventType: "reaction.received",
    });
    const events: EventRef[] = change.eventIds.map((id) => ({ id, type: "reaction.received" }));
    return { chat, reaction: change.reaction, operation: input.operation, events };
  });
  if (result && result.events.length > 0) {
    deps.activity.publish({ orgId, kind: "message", chatId: result.chat.chat.id, messageId: input.messageId });
  }
  return result;
}

export interface TypingChange {
  chat: ChatWithHandles;
  /** The typist's handle, normalized. */
  from: string;
  state: "started" | "stopped";
  /** Empty when the state did not change (started while already typing, stopped while not). */
  events: EventRef[];
}

/**
 * A participant starts or stops typing: typing_indicator.received / .removed, only when the
 * state changes. SMS carries no typing indicators, so an SMS chat refuses.
 */
export async function recipientTyping(
  deps: CoreDeps,
  orgId: number,
  input: { from: string; chatId: number; state: "started" | "stopped" },
): Promise<TypingChange> {
  const from = await normalizeExternalHandle(deps.store.read, orgId, input.from, "from");
  if (input.state !== "started" && input.state !== "stopped") {
    throw new DomainError("validation_failed", "state must be started or stopped", { field: "state" });
  }
  const result = await deps.store.transaction(async (tx) => {
    const chat = await loadChat(tx, orgId, input.chatId);
    const typist = activeParticipant(chat, from, "from");
    requireRichService(chat, "typing indicators");
    const now = deps.clock.now();
    const events: EventRef[] = [];
    const typingEvent = (type: "typing_indicator.received" | "typing_indicator.removed") =>
      ({ type, chat: chatFacts(chat), handle: handleFacts(chat, typist), at: now.toISOString() }) as const;
    if (input.state === "started") {
      const already = await tx.deviceSignals.find(chat.chat.id, from, "their_typing");
      await tx.deviceSignals.put({ orgId, chatId: chat.chat.id, handle: from, kind: "their_typing", at: already?.at ?? now, expiresAt: null, detail: null });
      if (!already) events.push(await emitRef(tx, deps, orgId, typingEvent("typing_indicator.received"), chat.chat.id));
    } else if (await tx.deviceSignals.remove(chat.chat.id, from, "their_typing")) {
      events.push(await emitRef(tx, deps, orgId, typingEvent("typing_indicator.removed"), chat.chat.id));
    }
    return { chat, from, state: input.state, events };
  });
  if (result.events.length > 0) {
    deps.activity.publish({
      orgId,
      kind: "typing",
      chatId: input.chatId,
      detail: { handle: from, display: input.state === "started", side: "theirs" },
    });
  }
  return result;
}

export interface ReadReceipt {
  chat: ChatWithHandles;
  /** Our messages this read marked read (already-read and undelivered ones are left out). */
  messages: MessageDetails[];
  events: EventRef[];
}

/**
 * A participant reads the chat: every delivered message of ours not yet read becomes read,
 * one message.read each. SMS carries no read receipts, so an SMS chat refuses.
 */
export async function readByRecipient(
  deps: CoreDeps,
  orgId: number,
  input: { from: string; chatId: number },
): Promise<ReadReceipt> {
  const from = await normalizeExternalHandle(deps.store.read, orgId, input.from, "from");
  const result = await deps.store.transaction(async (tx) => {
    const chat = await loadChat(tx, orgId, input.chatId);
    activeParticipant(chat, from, "from");
    requireRichService(chat, "read receipts");
    const changed = await loadMessageDetails(tx, await tx.messages.markOutboundRead(chat.chat.id, deps.clock.now()));
    const events: EventRef[] = [];
    for (const details of changed) {
      const event = { type: "message.read", chat: chatFacts(chat), message: messageFacts(details, deps.links) } as const;
      events.push(await emitRef(tx, deps, orgId, event, chat.chat.id));
    }
    return { chat, messages: changed, events };
  });
  if (result.events.length > 0) {
    for (const { message } of result.messages) {
      deps.activity.publish({ orgId, kind: "message", chatId: input.chatId, messageId: message.id });
    }
  }
  return result;
}

export interface LocationSharingChange {
  chat: ChatWithHandles;
  /** The sharer's handle, normalized. */
  from: string;
  state: "started" | "stopped";
  /** When a time-limited share ends; null when indefinite or stopped. */
  endsAt: Date | null;
  /** Empty when nothing changed (started while sharing, stopped while not). */
  events: EventRef[];
}

/** The longest time-limited share Find My offers is a day; longer is "indefinitely". */
export const MAX_LOCATION_SHARE_MINUTES = 24 * 60;

/**
 * A participant starts or stops sharing their location with our number:
 * location.sharing.started / .stopped, only when the state changes. Sharing happens in direct
 * iMessage chats only (where a location can be requested). A time-limited share ends silently
 * when its time is up: no stopped event then, and a later start is a new share.
 */
export async function recipientLocationSharing(
  deps: CoreDeps,
  orgId: number,
  input: { from: string; chatId: number; state: "started" | "stopped"; durationMinutes?: number | undefined },
): Promise<LocationSharingChange> {
  const from = await normalizeExternalHandle(deps.store.read, orgId, input.from, "from");
  if (input.state !== "started" && input.state !== "stopped") {
    throw new DomainError("validation_failed", "state must be started or stopped", { field: "state" });
  }
  const minutes = input.durationMinutes;
  if (minutes !== undefined && (input.state !== "started" || !Number.isInteger(minutes) || minutes < 1 || minutes > MAX_LOCATION_SHARE_MINUTES)) {
    const reason = input.state === "started" ? `must be a whole number from 1 to ${MAX_LOCATION_SHARE_MINUTES}` : "applies to started only";
    throw new DomainError("validation_failed", `duration_minutes ${reason}`, { field: "duration_minutes" });
  }
  const result = await deps.store.transaction(async (tx) => {
    const chat = await loadChat(tx, orgId, input.chatId);
    const sharer = activeParticipant(chat, from, "from");
    if (chat.chat.isGroup || chat.chat.service !== "iMessage") {
      throw new DomainError("validation_failed", `chat ${chat.chat.id}: locations are shared in direct iMessage chats only`, {
        field: "chat_id",
      });
    }
    const now = deps.clock.now();
    const previous = await tx.deviceSignals.find(chat.chat.id, from, "their_location");
    const sharing = previous !== undefined && (previous.expiresAt === null || previous.expiresAt > now);
    const events: EventRef[] = [];
    const facts = () => ({ chat: chatFacts(chat), handle: handleFacts(chat, sharer) });
    let endsAt: Date | null = null;
    if (input.state === "started") {
      if (sharing) return { chat, from, state: input.state, endsAt: previous.expiresAt, events };
      endsAt = minutes === undefined ? null : new Date(now.getTime() + minutes * 60_000);
      await tx.deviceSignals.put({ orgId, chatId: chat.chat.id, handle: from, kind: "their_location", at: now, expiresAt: endsAt, detail: null });
      const event = { type: "location.sharing.started", ...facts(), beganAt: now.toISOString(), endsAt: endsAt?.toISOString() ?? null } as const;
      events.push(await emitRef(tx, deps, orgId, event, chat.chat.id));
    } else if (previous !== undefined) {
      await tx.deviceSignals.remove(chat.chat.id, from, "their_location");
      if (sharing) events.push(await emitRef(tx, deps, orgId, { type: "location.sharing.stopped", ...facts(), at: now.toISOString() }, chat.chat.id));
    }
    return { chat, from, state: input.state, endsAt, events };
  });
  if (result.events.length > 0) deps.activity.publish({ orgId, kind: "chat", chatId: input.chatId });
  return result;
}
