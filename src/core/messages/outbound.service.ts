import { loadChat, loadMessageDetails } from "../chats/chat-loading.ts";
import type { CoreDeps } from "../deps.ts";
import { applyDeliveryOutcome, emitDeliveryOutcome } from "../inbound/delivery-status.service.ts";
import type { ChatWithHandles, Message, MessageDetails } from "../model.ts";
import type { ChatSignal, NewOutboundJob, OutboundMessage, Repositories, SendReceipt } from "../ports.ts";

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
 * What a send request already holds when it runs its own job (`runNow`): the chat and the
 * message as its transaction wrote them. `recorded` is filled in with the message as the
 * carrier's receipt left it, so the request answers without reading it again.
 */
export interface LoadedSend {
  chat: ChatWithHandles;
  message: MessageDetails;
  recorded?: Message;
}

/**
 * Hands a message to the carrier and records its id (and any outcome it knew at once). A
 * message deleted meanwhile is not sent; one already carrying a carrier id was sent before
 * a crash and is not sent again. `loaded` (the request's own job, just committed and
 * claimed) spares reading the chat and message again; the receipt's transaction still reads
 * the message row, so a deletion or a repeat in between records nothing twice.
 */
export async function performSend(deps: CoreDeps, orgId: number, messageId: number, loaded?: LoadedSend): Promise<void> {
  let chat: ChatWithHandles;
  let details: MessageDetails;
  if (loaded && loaded.message.message.id === messageId) {
    ({ chat, message: details } = loaded);
  } else {
    const read = deps.store.read;
    const message = await read.messages.findById(orgId, messageId);
    if (!message || !message.isFromMe || message.carrierMessageId) return;
    chat = await loadChat(read, orgId, message.chatId);
    [details] = (await loadMessageDetails(read, [message], chat.handles)) as [MessageDetails];
  }
  let recorded: { message: Message | undefined } | undefined;
  const recordReceipt = async (tx: Repositories, receipt: SendReceipt) => {
    recorded = { message: await recordSendReceipt(tx, deps, { orgId, chat, message: details }, receipt) };
  };
  const receipt = await deps.transport.send({ orgId, chat, message: details, recordReceipt });
  // A carrier that keeps its acceptance elsewhere did not record it with us: do it now.
  if (!recorded) await deps.store.transaction((tx) => recordReceipt(tx, receipt));
  const updated = recorded!.message;
  if (!updated) return;
  if (loaded) loaded.recorded = updated;
  deps.activity.publish({ orgId, kind: "message", chatId: updated.chatId, messageId });
}

/**
 * Stores the carrier's id and an outcome it knew at once, inside `tx`. The usual case (our
 * message, pending, no carrier id yet) is one write that hands back the row; anything else
 * (gone, already recorded, no longer pending) reads the row and records what still applies.
 * The event's chat and the message's attachments and reactions are those the send loaded
 * (`sent`). Returns the message as it now is, or undefined when it no longer exists.
 */
async function recordSendReceipt(tx: Repositories, deps: CoreDeps, sent: OutboundMessage, receipt: SendReceipt): Promise<Message | undefined> {
  const { orgId } = sent;
  const id = sent.message.message.id;
  const loadedFor = (message: Message) => (message.chatId === sent.chat.chat.id ? { chat: sent.chat, details: sent.message } : undefined);
  const recorded = await tx.messages.recordCarrierReceipt(orgId, id, receipt.carrierMessageId, receipt.outcome);
  if (recorded) {
    if (receipt.outcome) await emitDeliveryOutcome(tx, deps, recorded, receipt.outcome, loadedFor(recorded));
    return recorded;
  }
  const message = await tx.messages.findById(orgId, id);
  if (!message) return undefined;
  const carrierSet = await tx.messages.setCarrierId(message.id, receipt.carrierMessageId);
  const withCarrier = carrierSet ? { ...message, carrierMessageId: receipt.carrierMessageId } : message;
  if (!receipt.outcome) return withCarrier;
  return (await applyDeliveryOutcome(tx, deps, withCarrier, receipt.outcome, loadedFor(message))) ?? withCarrier;
}

/** Shows a signal of ours on the other side; a chat deleted meanwhile shows nothing. */
export async function performChatSignal(deps: CoreDeps, orgId: number, chatId: number, signal: ChatSignal): Promise<void> {
  const chat = await deps.store.read.chats.findById(orgId, chatId);
  if (!chat) return;
  await deps.transport.signal(await loadChat(deps.store.read, orgId, chatId), signal);
}
