import {
  prepareAttachments,
  removeAttachmentFiles,
  storeAttachmentFiles,
} from "../attachments/attachments.ts";
import { loadChat, withHandles } from "../chats/chat-loading.ts";
import { participantsKey } from "../chats/chat-names.ts";
import { resolveOwnNumber } from "../chats/chats.service.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import { validateOutgoing } from "../messages/messages.service.ts";
import type { ChatWithHandles, MessageDetails, PhoneNumber } from "../model.ts";
import { normalizeExternalHandle } from "../profiles/profiles.service.ts";
import { chatFacts, handleFacts, messageFacts } from "../events/domain-events.ts";
import { activeParticipant, emitRef, type EventRef } from "./inbound.ts";

export interface InboundMessageInput {
  /** The person writing (phone or email). */
  from: string;
  /** Our number they write to; optional with chatId (then it must be the chat's number). */
  to?: string | undefined;
  text?: string | undefined;
  attachmentUrls?: string[] | undefined;
  /** An existing chat (a group, say) they write in; without it, their 1:1 chat with `to`. */
  chatId?: number | undefined;
}

export interface InboundMessageResult {
  chat: ChatWithHandles;
  message: MessageDetails;
  /** True when their message started a new chat. */
  createdChat: boolean;
  events: EventRef[];
}

/**
 * A person writes to one of our numbers: message.received. A first message from someone
 * starts a 1:1 chat (no chat.created: that event is for chats created through the API).
 * In a 1:1 chat the thread follows the service they write with. If they were typing, the
 * indicator goes away first (typing_indicator.removed), as it does on a phone.
 */
export async function receiveMessage(
  deps: CoreDeps,
  orgId: number,
  input: InboundMessageInput,
): Promise<InboundMessageResult> {
  const repos = deps.store.read;
  const from = await normalizeExternalHandle(repos, orgId, input.from, "from");
  const outgoing = { text: input.text ?? "", uploads: [], attachmentUrls: input.attachmentUrls ?? [] };
  validateOutgoing(outgoing);
  const ourNumber: PhoneNumber | undefined =
    input.to === undefined ? undefined : await resolveOwnNumber(repos, orgId, input.to, "to");
  if (input.chatId === undefined && !ourNumber) {
    throw new DomainError("bad_request", "to is required (one of your numbers) unless chat_id is given", { field: "to" });
  }
  if (input.chatId !== undefined) {
    const chat = await loadChat(repos, orgId, input.chatId);
    if (ourNumber && chat.chat.phoneNumberId !== ourNumber.id) {
      throw new DomainError("validation_failed", `to: chat ${chat.chat.id} is on ${chat.phoneNumber}, not ${ourNumber.phoneNumber}`, {
        field: "to",
      });
    }
    activeParticipant(chat, from, "from");
  }
  const senderService = await deps.transport.serviceFor(orgId, [from]);
  const prepared = await prepareAttachments(deps, [], outgoing.attachmentUrls);
  const attachmentRows = await storeAttachmentFiles(deps, prepared);

  const write = () =>
    deps.store.transaction(async (tx) => {
      let chat: ChatWithHandles;
      let createdChat = false;
      const now = deps.clock.now();
      if (input.chatId !== undefined) {
        chat = await loadChat(tx, orgId, input.chatId);
      } else {
        const number = ourNumber!;
        const key = participantsKey([from]);
        const existing = await tx.chats.findByParticipants(number.id, key);
        const row =
          existing ??
          (await tx.chats.create({
            orgId,
            phoneNumberId: number.id,
            displayName: null,
            service: senderService,
            isGroup: false,
            participantsKey: key,
            now,
            handles: [
              { handle: number.phoneNumber, service: senderService, isMe: true },
              { handle: from, service: senderService, isMe: false },
            ],
          }));
        createdChat = !existing;
        chat = (await withHandles(tx, [row]))[0]!;
      }
      const sender = activeParticipant(chat, from, "from");
      if (!chat.chat.isGroup && chat.chat.service !== senderService) {
        await tx.chats.setService(chat.chat.id, senderService, now);
        chat.chat.service = senderService;
      }
      if (sender.service !== senderService) {
        await tx.chats.setHandleService(sender.id, senderService);
        sender.service = senderService;
      }
      const events: EventRef[] = [];
      const typing = await tx.deviceSignals.remove(chat.chat.id, from, "their_typing");
      if (typing) {
        events.push(
          await emitRef(
            tx,
            deps,
            orgId,
            { type: "typing_indicator.removed", chat: chatFacts(chat), handle: handleFacts(chat, sender), at: now.toISOString() },
            chat.chat.id,
          ),
        );
      }
      const message = await tx.messages.create({
        orgId,
        chatId: chat.chat.id,
        chatHandleId: sender.id,
        isFromMe: false,
        text: outgoing.text,
        sentAt: now,
        deliveredAt: now,
        deliveryStatus: "delivered",
        editedAt: null,
        isRead: false,
        readAt: null,
        idempotencyKey: null,
      });
      const attachments = attachmentRows(message.id, orgId, now);
      await tx.attachments.createMany(attachments);
      await tx.chats.recordActivity(chat.chat.id, 1, now);
      chat.chat.messageCount += 1;
      chat.chat.lastActivityAt = now;
      const details: MessageDetails = { message, sender: from, attachments, reactions: [] };
      events.push(
        await emitRef(
          tx,
          deps,
          orgId,
          { type: "message.received", chat: chatFacts(chat), message: messageFacts(details, deps.links) },
          chat.chat.id,
        ),
      );
      return { chat, message: details, createdChat, events, typingCleared: typing !== undefined };
    });

  let result: Awaited<ReturnType<typeof write>>;
  try {
    try {
      result = await write();
    } catch (error) {
      // Someone created the same 1:1 chat at the same moment: write into theirs.
      if (error instanceof DomainError && error.code === "conflict" && error.details?.resource === "chat") result = await write();
      else throw error;
    }
  } catch (error) {
    await removeAttachmentFiles(deps, prepared);
    throw error;
  }
  const chatId = result.chat.chat.id;
  if (result.createdChat) deps.activity.publish({ orgId, kind: "chat", chatId });
  if (result.typingCleared) deps.activity.publish({ orgId, kind: "typing", chatId, detail: { handle: from, display: false, side: "theirs" } });
  deps.activity.publish({ orgId, kind: "message", chatId, messageId: result.message.message.id });
  return { chat: result.chat, message: result.message, createdChat: result.createdChat, events: result.events };
}
