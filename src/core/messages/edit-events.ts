import { loadChat, loadMessageDetails } from "../chats/chat-loading.ts";
import type { CoreDeps } from "../deps.ts";
import { chatFacts, messageFacts } from "../events/domain-events.ts";
import { DomainError } from "../errors.ts";
import type { Message } from "../model.ts";
import type { Repositories } from "../ports.ts";
import { emitEvent } from "../webhooks/events.ts";

/** iMessage's limits on editing a sent message, on every face: at most 5 edits, within 15 minutes of sending. */
export const MESSAGE_EDIT_LIMITS = { maxEdits: 5, windowMs: 15 * 60_000 } as const;

/** Refuses an edit past the limits; call inside the edit's transaction, on the message as stored. */
export function requireEditable(message: Message, now: Date): void {
  if (message.editCount >= MESSAGE_EDIT_LIMITS.maxEdits) {
    throw new DomainError("validation_failed", `This message was already edited ${MESSAGE_EDIT_LIMITS.maxEdits} times, the most a message allows`);
  }
  if (now.getTime() - message.sentAt.getTime() > MESSAGE_EDIT_LIMITS.windowMs) {
    throw new DomainError("validation_failed", "A message can be edited only within 15 minutes of sending");
  }
}

/** Emits message.edited inside the edit's transaction, with the message as it reads now. */
export async function emitMessageEdited(
  tx: Repositories,
  deps: CoreDeps,
  orgId: number,
  messageId: number,
  edit: { previousText: string; partIndex: number; partText: string },
): Promise<void> {
  const message = await tx.messages.findById(orgId, messageId);
  if (!message) return;
  const chat = await loadChat(tx, orgId, message.chatId);
  const [details] = await loadMessageDetails(tx, [message]);
  const event = {
    type: "message.edited",
    chat: chatFacts(chat),
    message: messageFacts(details!, deps.links),
    ...edit,
    at: deps.clock.now().toISOString(),
  } as const;
  await emitEvent(tx, deps, orgId, event, chat.chat.id);
}
