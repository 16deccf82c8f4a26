import { loadChat, loadMessageDetails } from "../chats/chat-loading.ts";
import type { CoreDeps } from "../deps.ts";
import { chatFacts, messageFacts } from "../events/domain-events.ts";
import type { Repositories } from "../ports.ts";
import { emitEvent } from "../webhooks/events.ts";

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
