import { loadChat, loadMessageDetails } from "../chats/chat-loading.ts";
import { requireActiveChat } from "../chats/group-chats.service.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import type { ChatWithHandles, Message, MessageDetails } from "../model.ts";
import type { Repositories } from "../ports.ts";
import { messageParts, textOfParts, MAX_PART_TEXT_LENGTH } from "./parts.ts";
import { emitMessageEdited, requireEditable } from "./edit-events.ts";

/** A message of the org by its UUID, with its chat; message_not_found otherwise. */
export async function loadMessageByUuid(
  repos: Repositories,
  orgId: number,
  uuid: string,
): Promise<{ chat: ChatWithHandles; details: MessageDetails }> {
  const message = await repos.messages.findByUuid(orgId, uuid);
  if (!message) throw notFound("message_not_found", "Message not found");
  const chat = await loadChat(repos, orgId, message.chatId);
  const [details] = await loadMessageDetails(repos, [message]);
  return { chat, details: details! };
}

/** Threads are shallow; a longer chain of replies is cut here rather than followed forever. */
const MAX_THREAD_DEPTH = 100;

/**
 * The thread a message belongs to: the message that started it, then every reply to it or
 * to one of its replies, oldest first. A message outside any thread is a thread of one.
 */
export async function listThread(
  deps: CoreDeps,
  orgId: number,
  messageUuid: string,
): Promise<{ chat: ChatWithHandles; messages: MessageDetails[] }> {
  const repos = deps.store.read;
  let root: Message | undefined = await repos.messages.findByUuid(orgId, messageUuid);
  if (!root) throw notFound("message_not_found", "Message not found");
  for (let depth = 0; root.replyTo && depth < MAX_THREAD_DEPTH; depth++) {
    const parent: Message | undefined = await repos.messages.findByUuid(orgId, root.replyTo.messageUuid);
    if (!parent) break;
    root = parent;
  }
  const thread: Message[] = [root];
  let frontier = [root.uuid];
  for (let depth = 0; frontier.length > 0 && depth < MAX_THREAD_DEPTH; depth++) {
    const replies = await repos.messages.listReplies(root.chatId, frontier);
    thread.push(...replies);
    frontier = replies.map((m) => m.uuid);
  }
  thread.sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime() || a.id - b.id);
  const chat = await loadChat(repos, orgId, root.chatId);
  return { chat, messages: await loadMessageDetails(repos, thread) };
}

/**
 * Replaces the text of one text part of our own message (V3 edit). The V2 view follows:
 * its text is the text parts joined again.
 */
export async function editMessagePart(
  deps: CoreDeps,
  orgId: number,
  messageUuid: string,
  partIndex: number,
  text: string,
): Promise<{ chat: ChatWithHandles; details: MessageDetails }> {
  if (text.length === 0 || text.length > MAX_PART_TEXT_LENGTH) {
    throw new DomainError("validation_failed", `text must be 1 to ${MAX_PART_TEXT_LENGTH} characters`, {
      field: "text",
      reason: ` must be 1 to ${MAX_PART_TEXT_LENGTH} characters`,
    });
  }
  const result = await deps.store.transaction(async (tx) => {
    const { chat, details } = await loadMessageByUuid(tx, orgId, messageUuid);
    requireActiveChat(chat);
    if (!details.message.isFromMe) {
      throw new DomainError("forbidden", "Only messages sent from your number can be edited");
    }
    requireEditable(details.message, deps.clock.now());
    const parts = messageParts(details.message, details.attachments);
    const part = parts[partIndex];
    if (!part || part.type !== "text") {
      throw new DomainError("validation_failed", `partIndex: part ${partIndex} of the message is not a text part`, {
        field: "partIndex",
        reason: `: part ${partIndex} of the message is not a text part`,
      });
    }
    const edited = parts.map((p, i) => (i === partIndex ? { type: "text" as const, value: text } : p));
    await tx.messages.updateParts(details.message.id, edited, textOfParts(edited), deps.clock.now());
    await emitMessageEdited(tx, deps, orgId, details.message.id, { previousText: details.message.text, partIndex, partText: text });
    return loadMessageByUuid(tx, orgId, messageUuid);
  });
  deps.activity.publish({ orgId, kind: "message", chatId: result.chat.chat.id, messageId: result.details.message.id });
  return result;
}
