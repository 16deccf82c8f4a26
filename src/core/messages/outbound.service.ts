import { loadChat, loadMessageDetails } from "../chats/chat-loading.ts";
import type { CoreDeps } from "../deps.ts";
import { applyDeliveryOutcome } from "../inbound/delivery-status.service.ts";
import type { ChatSignal, NewOutboundJob, Repositories, SendReceipt } from "../ports.ts";

/**
 * Outbound work core queues and performs: handing a message to the carrier and showing our
 * signals on the other side. Each is queued in the transaction of the change that needs
 * it (never lost), then run by the outbound worker (src/outbound) — or at once by the
 * request that queued it — outside any transaction.
 */

export const SEND_MESSAGE_JOB = "message.send";
export const CHAT_SIGNAL_JOB = "chat.signal";

export function sendMessageJob(orgId: number, messageId: number, now: Date): NewOutboundJob {
  return { orgId, kind: SEND_MESSAGE_JOB, payload: { messageId }, runAt: now };
}

export function chatSignalJob(orgId: number, chatId: number, signal: ChatSignal, now: Date): NewOutboundJob {
  return { orgId, kind: CHAT_SIGNAL_JOB, payload: { chatId, signal }, runAt: now };
}

/** Queues a signal of ours inside `tx`; the caller hands the ids to `deps.outbound.runNow` after commit. */
export function queueChatSignal(tx: Repositories, deps: CoreDeps, orgId: number, chatId: number, signal: ChatSignal): Promise<number[]> {
  return tx.outboundJobs.add([chatSignalJob(orgId, chatId, signal, deps.clock.now())], deps.clock.now());
}

/**
 * Hands a message to the carrier and records its id (and any outcome it knew at once). A
 * message deleted meanwhile is not sent; one already carrying a carrier id was sent before
 * a crash and is not sent again.
 */
export async function performSend(deps: CoreDeps, orgId: number, messageId: number): Promise<void> {
  const read = deps.store.read;
  const message = await read.messages.findById(orgId, messageId);
  if (!message || !message.isFromMe || message.carrierMessageId) return;
  const chat = await loadChat(read, orgId, message.chatId);
  const [details] = await loadMessageDetails(read, [message], chat.handles);
  const receipt = await deps.transport.send({ orgId, chat, message: details! });
  await recordSendReceipt(deps, orgId, messageId, receipt);
}

async function recordSendReceipt(deps: CoreDeps, orgId: number, messageId: number, receipt: SendReceipt): Promise<void> {
  const changed = await deps.store.transaction(async (tx) => {
    const message = await tx.messages.findById(orgId, messageId);
    if (!message) return undefined;
    await tx.messages.setCarrierId(message.id, receipt.carrierMessageId);
    if (receipt.outcome) await applyDeliveryOutcome(tx, deps, message, receipt.outcome);
    return message;
  });
  if (changed) deps.activity.publish({ orgId, kind: "message", chatId: changed.chatId, messageId });
}

/** Shows a signal of ours on the other side; a chat deleted meanwhile shows nothing. */
export async function performChatSignal(deps: CoreDeps, orgId: number, chatId: number, signal: ChatSignal): Promise<void> {
  const chat = await deps.store.read.chats.findById(orgId, chatId);
  if (!chat) return;
  await deps.transport.signal(await loadChat(deps.store.read, orgId, chatId), signal);
}
