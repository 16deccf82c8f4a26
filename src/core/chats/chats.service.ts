import type { CoreDeps } from "../deps.ts";
import { DomainError, fieldError } from "../errors.ts";
import { normalizeHandle } from "../handles.ts";
import type { ChatWithHandles, PhoneNumber } from "../model.ts";
import type { ChatSignal, Page, PageRequest, Repositories } from "../ports.ts";
import {
  runSend,
  validateOutgoing,
  writeOutboundMessage,
  type OutgoingMessage,
  type SendResult,
} from "../messages/messages.service.ts";
import { queueChatSignal } from "../messages/outbound.service.ts";
import { emitEvent } from "../webhooks/events.ts";
import { chatFacts, messageFacts } from "../events/domain-events.ts";
import { loadChat, loadMessageDetails, withHandles } from "./chat-loading.ts";
import { participantsKey } from "./chat-names.ts";

export interface CreateChatInput {
  sendFrom: string;
  recipients: string[];
  displayName?: string | undefined;
  message: OutgoingMessage;
}

export interface CreateChatResult extends SendResult {
  /** True when this call created the chat (false: an existing chat with these participants). */
  createdChat: boolean;
}

export const MAX_RECIPIENTS = 32;

/** One of the org's numbers, or sender_not_owned naming the domain field (`sender`, `phoneNumber`). */
export async function resolveOwnNumber(
  repos: Repositories,
  orgId: number,
  input: string,
  field: string,
): Promise<PhoneNumber> {
  const normalized = normalizeHandle(input, field, false);
  const number = await repos.phoneNumbers.findByNumber(orgId, normalized);
  if (!number) {
    throw fieldError("sender_not_owned", field, `: ${normalized} is not a phone number of your organization`);
  }
  return number;
}

/**
 * Find-or-create a chat with these recipients on our number and send the first message
 * into it. An existing chat gets the message too (clients use this as "send to number").
 */
export async function createChat(deps: CoreDeps, orgId: number, input: CreateChatInput): Promise<CreateChatResult> {
  if (input.recipients.length === 0) {
    throw fieldError("validation_failed", "recipients", " must list at least one recipient");
  }
  if (input.recipients.length > MAX_RECIPIENTS) {
    throw fieldError("validation_failed", "recipients", ` may list at most ${MAX_RECIPIENTS} recipients`);
  }
  const recipients = [...new Set(input.recipients.map((r, i) => normalizeHandle(r, `recipients[${i}]`)))];
  validateOutgoing(input.message);
  const sender = await resolveOwnNumber(deps.store.read, orgId, input.sendFrom, "sender");
  if (recipients.includes(sender.phoneNumber)) {
    throw fieldError("validation_failed", "recipients", " must not include the sending number");
  }
  const key = participantsKey(recipients);
  const route = await deps.transport.route(orgId, recipients);
  const { service } = route;
  const displayName = input.displayName?.trim() ? input.displayName.trim() : null;

  let createdChat = false;
  const attempt = () =>
    runSend(deps, orgId, input.message, async (tx, attachmentRows) => {
      createdChat = false;
      let chat: ChatWithHandles;
      const existing = await tx.chats.findByParticipants(sender.id, key);
      if (existing) {
        chat = (await withHandles(tx, [existing]))[0]!;
      } else {
        const created = await tx.chats.create({
          orgId,
          phoneNumberId: sender.id,
          displayName,
          service,
          isGroup: recipients.length > 1,
          participantsKey: key,
          now: deps.clock.now(),
          handles: [
            { handle: sender.phoneNumber, service, isMe: true },
            ...recipients.map((handle) => ({ handle, service, isMe: false })),
          ],
        });
        chat = (await withHandles(tx, [created]))[0]!;
        createdChat = true;
        await emitEvent(tx, deps, orgId, { type: "chat.created", chat: chatFacts(chat) }, chat.chat.id);
      }
      const written = await writeOutboundMessage(deps, tx, chat, input.message, attachmentRows, route);
      return { chat, ...written };
    }, (chat) => chat.chat.phoneNumberId === sender.id && chat.chat.participantsKey === key);

  try {
    const result = await attempt();
    return { ...result, createdChat: createdChat && !result.replayed };
  } catch (error) {
    // A concurrent request created the same chat first: send into it instead.
    if (error instanceof DomainError && error.code === "conflict" && error.details?.resource === "chat") {
      const result = await attempt();
      return { ...result, createdChat: false };
    }
    throw error;
  }
}

/**
 * Chats that involve `phoneNumber`: for one of the org's lines, the chats it sends from (and
 * any it takes part in); for any other number or email, the chats it currently takes part in.
 */
export async function listChats(
  deps: CoreDeps,
  orgId: number,
  phoneNumber: string,
  page: PageRequest,
): Promise<Page<ChatWithHandles>> {
  const repos = deps.store.read;
  const handle = normalizeHandle(phoneNumber, "phoneNumber");
  const chats = await repos.chats.listInvolving(orgId, handle, page);
  return { items: await withHandles(repos, chats.items), total: chats.total };
}

export async function getChat(deps: CoreDeps, orgId: number, chatId: number): Promise<ChatWithHandles> {
  return loadChat(deps.store.read, orgId, chatId);
}

/** The chat between our number and exactly these participants, if any. */
export async function findChat(
  deps: CoreDeps,
  orgId: number,
  phoneNumber: string,
  participants: string[],
): Promise<ChatWithHandles | undefined> {
  const repos = deps.store.read;
  if (participants.length === 0) {
    throw fieldError("bad_request", "participants", " is required");
  }
  const number = await resolveOwnNumber(repos, orgId, phoneNumber, "phoneNumber");
  const normalized = participants.map((p, i) => normalizeHandle(p, `participants[${i}]`));
  const chat = await repos.chats.findByParticipants(number.id, participantsKey(normalized));
  if (!chat) return undefined;
  return (await withHandles(repos, [chat]))[0];
}

/** Marks every inbound message read; one message.read event per message that changed. */
export async function markChatRead(deps: CoreDeps, orgId: number, chatId: number): Promise<void> {
  const jobIds = await deps.store.transaction(async (tx) => {
    const chat = await loadChat(tx, orgId, chatId);
    const changed = await loadMessageDetails(tx, await tx.messages.markChatRead(chatId, deps.clock.now()));
    for (const details of changed) {
      const event = { type: "message.read", chat: chatFacts(chat), message: messageFacts(details, deps.links) } as const;
      await emitEvent(tx, deps, orgId, event, chatId);
    }
    return queueChatSignal(tx, deps, orgId, chatId, "read");
  });
  await deps.outbound.runNow(jobIds);
  deps.activity.publish({ orgId, kind: "chat", chatId });
}

/** Queues a signal of ours for the other side's devices and shows it at once when it can. */
async function signalChat(deps: CoreDeps, orgId: number, chatId: number, signal: ChatSignal): Promise<void> {
  const jobIds = await deps.store.transaction(async (tx) => {
    await loadChat(tx, orgId, chatId);
    return queueChatSignal(tx, deps, orgId, chatId, signal);
  });
  await deps.outbound.runNow(jobIds);
}

export async function startTyping(deps: CoreDeps, orgId: number, chatId: number): Promise<void> {
  await signalChat(deps, orgId, chatId, "typing_started");
}

export async function stopTyping(deps: CoreDeps, orgId: number, chatId: number): Promise<void> {
  await signalChat(deps, orgId, chatId, "typing_stopped");
}

export async function shareContact(deps: CoreDeps, orgId: number, chatId: number): Promise<void> {
  await signalChat(deps, orgId, chatId, "contact_card");
}

/**
 * Asks the other participant to share their location. Find My shares in direct iMessage chats
 * only; what the device does with the request is up to the carrier (the simulator's
 * location-sharer shares, the others ignore it).
 */
export async function requestLocation(deps: CoreDeps, orgId: number, chat: ChatWithHandles): Promise<void> {
  if (chat.chat.isGroup) throw new DomainError("group_chat_not_supported", "Location requests work in direct chats only");
  if (chat.chat.service !== "iMessage") {
    throw new DomainError("service_not_supported", `Location requests need iMessage; this chat uses ${chat.chat.service}`);
  }
  await signalChat(deps, orgId, chat.chat.id, "location_request");
}

