import { loadChat } from "../chats/chat-loading.ts";
import { ourHandle } from "../chats/chat-names.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import type { Reaction, ReactionType } from "../model.ts";
import { emitEvent } from "../webhooks/events.ts";
import { reactionEventData } from "../webhooks/payloads.ts";
import { messageParts } from "./parts.ts";

export interface ReactionChange {
  reaction: Reaction;
  operation: "add" | "remove";
}

/**
 * Adds or removes our tapback on a message. iMessage keeps one tapback per person per
 * message, so adding replaces our previous one; adding the one already there changes
 * nothing (same reaction back, no event), so a retried request is harmless. Removing a
 * tapback we never left is reaction_not_found. Changes emit reaction.sent (with `operation`).
 */
export async function reactToMessage(
  deps: CoreDeps,
  orgId: number,
  messageId: number,
  type: ReactionType | "custom",
  operation: "add" | "remove",
  /** V3: the part reacted to (default 0) and the emoji of a custom reaction. */
  options: { partIndex?: number | undefined; customEmoji?: string | undefined } = {},
): Promise<ReactionChange> {
  const partIndex = options.partIndex ?? 0;
  const customEmoji = type === "custom" ? options.customEmoji?.trim() : undefined;
  if (type === "custom" && !customEmoji) {
    throw new DomainError("validation_failed", "customEmoji is required for a custom reaction", {
      field: "customEmoji",
      reason: " is required for a custom reaction",
    });
  }
  const result = await deps.store.transaction(async (tx) => {
    const message = await tx.messages.findById(orgId, messageId);
    if (!message) throw notFound("message_not_found", "Chat message not found");
    const chat = await loadChat(tx, orgId, message.chatId);
    const mine = ourHandle(chat);
    if (partIndex > 0) {
      const attachments = (await tx.attachments.listForMessages([message.id])).get(message.id) ?? [];
      if (partIndex >= messageParts(message, attachments).length) {
        throw new DomainError("validation_failed", `partIndex: the message has no part ${partIndex}`, {
          field: "partIndex",
          reason: `: the message has no part ${partIndex}`,
        });
      }
    }
    const existing = (await tx.reactions.listByHandle(message.id, mine.id)).filter((r) => r.partIndex === partIndex);
    const now = deps.clock.now();
    const same = (r: Reaction) => r.reaction === type && (type !== "custom" || r.customEmoji === customEmoji);
    if (operation === "add" && existing.length === 1 && same(existing[0]!)) {
      return { reaction: existing[0]!, operation, chatId: chat.chat.id, changed: false };
    }
    let reaction: Reaction;
    if (operation === "add") {
      for (const previous of existing) await tx.reactions.delete(previous.id);
      reaction = await tx.reactions.create({
        orgId,
        messageId: message.id,
        chatHandleId: mine.id,
        reaction: type,
        customEmoji: customEmoji ?? null,
        partIndex,
        isFromMe: true,
        fromPhone: mine.handle,
        sentAt: now,
        createdAt: now,
        updatedAt: now,
      });
    } else {
      const match = existing.find(same);
      if (!match) throw new DomainError("reaction_not_found", `No ${type} reaction from you on this message`);
      await tx.reactions.delete(match.id);
      reaction = match;
    }
    await emitEvent(tx, deps, orgId, "reaction.sent", reactionEventData(chat, reaction, message, operation), chat.chat.id);
    return { reaction, operation, chatId: chat.chat.id, changed: true };
  });
  if (!result.changed) return { reaction: result.reaction, operation };
  deps.activity.publish({ orgId, kind: "message", chatId: result.chatId, messageId });
  return { reaction: result.reaction, operation };
}

export async function getReaction(deps: CoreDeps, orgId: number, reactionId: number): Promise<Reaction> {
  const reaction = await deps.store.read.reactions.findById(orgId, reactionId);
  if (!reaction) throw notFound("reaction_not_found", "Reaction not found");
  return reaction;
}
