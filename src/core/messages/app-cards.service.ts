import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import type { AppCardPart } from "../model.ts";
import { sendMessage, type SendResult } from "./messages.service.ts";
import { appCardOf, textOfParts, validateAppCardContent } from "./parts.ts";
import { loadMessageByUuid } from "./threads.service.ts";

/** What an update replaces on a card; the app's identity stays the original card's. */
type AppCardUpdate = Pick<AppCardPart, "layout" | "fallbackText" | "interactive" | "url">;

/**
 * Replaces a delivered app card of ours on the recipients' screens: the new card is a new
 * message (its own id and lifecycle) with the original's app. Only our own cards can be
 * updated (validation_failed otherwise), and only once delivered (conflict before, so a
 * client retries after message.delivered). Field paths name the update's own fields
 * (`layout`, `url`, …).
 */
export async function updateAppCard(deps: CoreDeps, orgId: number, messageUuid: string, update: AppCardUpdate): Promise<SendResult> {
  validateAppCardContent(update, "");
  const { chat, details } = await loadMessageByUuid(deps.store.read, orgId, messageUuid);
  const card = appCardOf(details.message.parts);
  if (!card || !details.message.isFromMe) {
    throw new DomainError("validation_failed", "messageId: the message is not an iMessage app card you sent", {
      field: "messageId",
      reason: ": the message is not an iMessage app card you sent",
    });
  }
  if (details.message.deliveryStatus !== "delivered") {
    throw new DomainError(
      "conflict",
      `The card is ${details.message.deliveryStatus === "pending" ? "not delivered yet; update it after message.delivered" : "not delivered"}`,
    );
  }
  const parts: AppCardPart[] = [{ type: "imessage_app", app: card.app, ...update }];
  return sendMessage(deps, orgId, chat.chat.id, { text: textOfParts(parts), uploads: [], attachmentUrls: [], parts });
}
