import { loadChat } from "../chats/chat-loading.ts";
import { ourHandle } from "../chats/chat-names.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import type { ChatHandle, ChatWithHandles, Message, Reaction, ReactionType } from "../model.ts";
import type { Repositories } from "../ports.ts";
import { emitEvent } from "../webhooks/events.ts";
import { chatFacts, reactedMessageFacts, reactionFacts } from "../events/domain-events.ts";
import { messageParts } from "./parts.ts";

export interface ReactionChange {
  reaction: Reaction;
  operation: "add" | "remove";
}

export interface TapbackChange extends ReactionChange {
  /** Ids of the events emitted, in order; empty when nothing changed. */
  eventIds: string[];
}

/**
 * One person's tapback change on a message, inside the caller's transaction. iMessage keeps
 * one tapback per person per message, so adding replaces theirs: receivers get the removal
 * of the old one (`operation: "remove"`) before the new one, and see every change. Adding the
 * one already there changes nothing (no event), so a retried request is harmless. Removing a
 * tapback that is not there is reaction_not_found. V3 reactions attach to a part
 * (`partIndex`, 0 for V2) and may be a custom emoji: the one-per-person rule holds per part.
 */
export async function changeTapback(
  tx: Repositories,
  deps: CoreDeps,
  input: {
    orgId: number;
    chat: ChatWithHandles;
    message: Message;
    reactor: ChatHandle;
    type: ReactionType | "custom";
    operation: "add" | "remove";
    eventType: "reaction.sent" | "reaction.received";
    partIndex?: number | undefined;
    customEmoji?: string | undefined;
  },
): Promise<TapbackChange> {
  const { orgId, chat, message, reactor, type, operation } = input;
  const partIndex = input.partIndex ?? 0;
  const customEmoji = type === "custom" ? input.customEmoji?.trim() : undefined;
  if (type === "custom" && !customEmoji) {
    throw new DomainError("validation_failed", "customEmoji is required for a custom reaction", {
      field: "customEmoji",
      reason: " is required for a custom reaction",
    });
  }
  if (partIndex > 0) {
    const attachments = (await tx.attachments.listForMessages([message.id])).get(message.id) ?? [];
    if (partIndex >= messageParts(message, attachments).length) {
      throw new DomainError("validation_failed", `partIndex: the message has no part ${partIndex}`, {
        field: "partIndex",
        reason: `: the message has no part ${partIndex}`,
      });
    }
  }
  const same = (r: Reaction) => r.reaction === type && (type !== "custom" || r.customEmoji === customEmoji);
  const existing = (await tx.reactions.listByHandle(message.id, reactor.id)).filter((r) => r.partIndex === partIndex);
  const emit = async (reaction: Reaction, op: "add" | "remove") => {
    const event = {
      type: input.eventType,
      operation: op,
      chat: chatFacts(chat),
      reaction: reactionFacts(chat, reaction),
      message: reactedMessageFacts(message),
    };
    return (await emitEvent(tx, deps, orgId, event, chat.chat.id)).id;
  };
  if (operation === "remove") {
    const match = existing.find(same);
    if (!match) {
      const who = reactor.isMe ? "you" : reactor.handle;
      throw new DomainError("reaction_not_found", `No ${type} reaction from ${who} on this message`);
    }
    await tx.reactions.delete(match.id);
    return { reaction: match, operation, eventIds: [await emit(match, "remove")] };
  }
  if (existing.length === 1 && same(existing[0]!)) {
    return { reaction: existing[0]!, operation, eventIds: [] };
  }
  const eventIds: string[] = [];
  for (const previous of existing) {
    await tx.reactions.delete(previous.id);
    eventIds.push(await emit(previous, "remove"));
  }
  const now = deps.clock.now();
  const reaction = await tx.reactions.create({
    orgId,
    messageId: message.id,
    chatHandleId: reactor.id,
    reaction: type,
    customEmoji: customEmoji ?? null,
    partIndex,
    isFromMe: reactor.isMe,
    fromPhone: reactor.handle,
    sentAt: now,
    createdAt: now,
    updatedAt: now,
  });
  eventIds.push(await emit(reaction, "add"));
  return { reaction, operation, eventIds };
}

/** Adds or removes our tapback on a message (see changeTapback); changes emit reaction.sent. */
export async function reactToMessage(
  deps: CoreDeps,
  orgId: number,
  messageId: number,
  type: ReactionType | "custom",
  operation: "add" | "remove",
  /** V3: the part reacted to (default 0) and the emoji of a custom reaction. */
  options: { partIndex?: number | undefined; customEmoji?: string | undefined } = {},
): Promise<ReactionChange> {
  const result = await deps.store.transaction(async (tx) => {
    const message = await tx.messages.findById(orgId, messageId);
    if (!message) throw notFound("message_not_found", "Chat message not found");
    const chat = await loadChat(tx, orgId, message.chatId);
    const change = await changeTapback(tx, deps, {
      orgId,
      chat,
      message,
      reactor: ourHandle(chat),
      type,
      operation,
      eventType: "reaction.sent",
      partIndex: options.partIndex,
      customEmoji: options.customEmoji,
    });
    return { ...change, chatId: chat.chat.id };
  });
  if (result.eventIds.length > 0) deps.activity.publish({ orgId, kind: "message", chatId: result.chatId, messageId });
  return { reaction: result.reaction, operation };
}

export async function getReaction(deps: CoreDeps, orgId: number, reactionId: number): Promise<Reaction> {
  const reaction = await deps.store.read.reactions.findById(orgId, reactionId);
  if (!reaction) throw notFound("reaction_not_found", "Reaction not found");
  return reaction;
}
