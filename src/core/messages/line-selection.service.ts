import { participantsKey } from "../chats/chat-names.ts";
import { createChat, MAX_RECIPIENTS, type CreateChatResult } from "../chats/chats.service.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import { normalizeHandle } from "../handles.ts";
import type { PhoneNumber } from "../model.ts";
import type { OutgoingMessage } from "./messages.service.ts";

export type LineSelectionReason = "reused_active_chat" | "new_best_number";

export interface AutoSendResult extends CreateChatResult {
  from: PhoneNumber;
  reason: LineSelectionReason;
}

/**
 * Sends to a set of recipients without naming our line: the chat that already has exactly
 * these recipients is reused (the most recently active one, if several of our numbers have
 * one); otherwise a new chat starts on the number with the fewest chats (lowest id on a tie),
 * which spreads new conversations over the org's numbers. Lines have no health of their own
 * here, so there is no failover to a fresh line.
 */
export async function sendToRecipients(
  deps: CoreDeps,
  orgId: number,
  input: { recipients: string[]; message: OutgoingMessage },
): Promise<AutoSendResult> {
  if (input.recipients.length === 0) {
    throw new DomainError("validation_failed", "recipients must list at least one recipient", {
      field: "recipients",
      reason: " must list at least one recipient",
    });
  }
  if (input.recipients.length > MAX_RECIPIENTS) {
    throw new DomainError("validation_failed", `recipients may list at most ${MAX_RECIPIENTS} recipients`, {
      field: "recipients",
      reason: ` may list at most ${MAX_RECIPIENTS} recipients`,
    });
  }
  const recipients = input.recipients.map((r, i) => normalizeHandle(r, `recipients[${i}]`));
  const { number: from, reason } = await chooseLine(deps, orgId, recipients);
  const result = await createChat(deps, orgId, { sendFrom: from.phoneNumber, recipients, message: input.message });
  return { ...result, from, reason };
}

/**
 * The line to use for these (normalized) recipients: the one whose chat with exactly them
 * was active last, else the line with the fewest chats (lowest id on a tie). With no
 * recipients, simply the line with the fewest chats.
 */
export async function chooseLine(
  deps: CoreDeps,
  orgId: number,
  recipients: readonly string[],
): Promise<{ number: PhoneNumber; reason: LineSelectionReason }> {
  const repos = deps.store.read;
  const numbers = await repos.phoneNumbers.listByOrg(orgId);
  if (numbers.length === 0) {
    throw new DomainError("forbidden", "Your organization has no phone number to send from");
  }
  if (recipients.length > 0) {
    const key = participantsKey(recipients);
    let reused: { number: PhoneNumber; at: number } | undefined;
    for (const number of numbers) {
      const chat = await repos.chats.findByParticipants(number.id, key);
      if (chat && (!reused || chat.lastActivityAt.getTime() > reused.at)) reused = { number, at: chat.lastActivityAt.getTime() };
    }
    if (reused) return { number: reused.number, reason: "reused_active_chat" };
  }
  let best = numbers[0]!;
  let fewest = Infinity;
  for (const number of numbers) {
    const total = await repos.chats.countByPhoneNumber(number.id);
    if (total < fewest) {
      fewest = total;
      best = number;
    }
  }
  return { number: best, reason: "new_best_number" };
}
