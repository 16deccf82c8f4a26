import type { FromSchema } from "json-schema-to-ts";
import { DomainError } from "../../core/errors.ts";
import type { OutgoingMessage } from "../../core/messages/messages.service.ts";
import { textOfParts, type OutgoingPart } from "../../core/messages/parts.ts";
import type { AppCardLayout, AppCardPart, MessageEffect } from "../../core/model.ts";
import type { appCardLayoutSchema, messageContentSchema } from "./schemas.ts";

/** MessageContent as the V3 wire sends it (the request schema's type). */
export type WireMessageContent = FromSchema<typeof messageContentSchema>;
type WirePart = WireMessageContent["parts"][number];
/** An app card's layout as the wire sends it (a part's and an update's). */
type WireAppCardLayout = FromSchema<typeof appCardLayoutSchema>;

/** The wire layout in core's names; absent fields stay absent. */
export function toAppCardLayout(layout: WireAppCardLayout): AppCardLayout {
  const fields = {
    caption: layout.caption,
    subcaption: layout.subcaption,
    trailingCaption: layout.trailing_caption,
    trailingSubcaption: layout.trailing_subcaption,
    imageUrl: layout.image_url,
    imageTitle: layout.image_title,
    imageSubtitle: layout.image_subtitle,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as AppCardLayout;
}

const invalid = (field: string, reason: string) =>
  new DomainError("invalid_message_content", `${field}${reason}`, { field, reason });
const invalidCard = (field: string, reason: string) =>
  new DomainError("invalid_app_card", `${field}${reason}`, { field, reason });

/** An app card part; the rules on its content are core's (validateParts). */
function toAppCardPart(part: WirePart, field: string): OutgoingPart {
  const { app, layout } = part;
  if (app === undefined) throw invalidCard(`${field}.app`, " is required for an imessage_app part");
  if (layout === undefined) throw invalidCard(`${field}.layout`, " is required for an imessage_app part");
  for (const name of ["bundle_id", "name", "team_id"] as const) {
    if (app[name] === undefined) throw invalidCard(`${field}.app.${name}`, " is required");
  }
  return {
    type: "imessage_app",
    app: {
      bundleId: app.bundle_id!,
      name: app.name!,
      teamId: app.team_id!,
      ...(app.app_store_id !== undefined ? { appStoreId: app.app_store_id } : {}),
    },
    layout: toAppCardLayout(layout),
    fallbackText: part.fallback_text ?? null,
    interactive: part.interactive ?? true,
    url: part.url ?? null,
  };
}

function toPart(part: WirePart, field: string): OutgoingPart {
  switch (part.type) {
    case "text":
      if (typeof part.value !== "string") throw invalid(`${field}.value`, " is required for a text part");
      return {
        type: "text",
        value: part.value,
        ...(part.text_decorations && part.text_decorations.length > 0
          ? {
              textDecorations: part.text_decorations.map((d) => ({
                range: [d.range[0]!, d.range[1]!] as [number, number],
                ...(d.style !== undefined ? { style: d.style } : {}),
                ...(d.animation !== undefined ? { animation: d.animation } : {}),
              })),
            }
          : {}),
      };
    case "link":
      if (typeof part.value !== "string") throw invalid(`${field}.value`, " is required for a link part");
      return { type: "link", value: part.value };
    case "media":
      if ((part.url === undefined) === (part.attachment_id === undefined)) {
        throw invalid(field, " must have exactly one of url or attachment_id");
      }
      return part.url !== undefined ? { type: "media", url: part.url } : { type: "media", attachmentId: part.attachment_id! };
    case "imessage_app":
      return toAppCardPart(part, field);
  }
}

/**
 * Turns the wire MessageContent into core's outgoing message. `field` is where it sits in
 * the body ("message"). The rules between parts are core's (validateParts).
 */
export function toOutgoingMessage(content: WireMessageContent, field = "message"): OutgoingMessage {
  const parts = content.parts.map((part, i) => toPart(part, `${field}.parts[${i}]`));
  let effect: MessageEffect | undefined;
  if (content.effect !== undefined) {
    if (content.effect.type === undefined || content.effect.name === undefined) {
      throw new DomainError("validation_failed", `${field}.effect must have a type and a name`, {
        field: `${field}.effect`,
        reason: " must have a type and a name",
      });
    }
    effect = { type: content.effect.type, name: content.effect.name };
  }
  return {
    text: textOfParts(parts),
    idempotencyKey: content.idempotency_key === "" ? undefined : content.idempotency_key,
    uploads: [],
    attachmentUrls: parts.flatMap((p) => (p.type === "media" && "url" in p ? [p.url] : [])),
    parts,
    effect,
    replyTo: content.reply_to
      ? { messageUuid: content.reply_to.message_id, partIndex: content.reply_to.part_index ?? 0 }
      : undefined,
    preferredService: content.preferred_service,
  };
}

/**
 * An app card part on the wire, without reactions. REST shows the layout fields that are
 * set; webhooks (`forWebhook`) carry the four captions only, null when unset, as their types
 * say. `url` is "" for a card sent without one, since clients type it as a string.
 */
export function toV3AppCardPart(part: AppCardPart, forWebhook = false) {
  const { app, layout } = part;
  const captions = {
    caption: layout.caption,
    subcaption: layout.subcaption,
    trailing_caption: layout.trailingCaption,
    trailing_subcaption: layout.trailingSubcaption,
  };
  const wireLayout = forWebhook
    ? Object.fromEntries(Object.entries(captions).map(([name, value]) => [name, value ?? null]))
    : Object.fromEntries(
        Object.entries({ ...captions, image_url: layout.imageUrl, image_title: layout.imageTitle, image_subtitle: layout.imageSubtitle })
          .filter(([, value]) => value !== undefined),
      );
  return {
    type: "imessage_app" as const,
    app: {
      bundle_id: app.bundleId,
      name: app.name,
      team_id: app.teamId,
      ...(app.appStoreId !== undefined ? { app_store_id: app.appStoreId } : {}),
    },
    layout: wireLayout,
    url: part.url ?? "",
    fallback_text: part.fallbackText,
  };
}
