import { DomainError } from "../../core/errors.ts";
import type { OutgoingMessage } from "../../core/messages/messages.service.ts";
import { textOfParts, type OutgoingPart } from "../../core/messages/parts.ts";
import type { MessageEffect, Service, TextDecoration } from "../../core/model.ts";

/** MessageContent as the V3 wire sends it. */
export interface WireMessageContent {
  parts: WirePart[];
  effect?: { type?: "screen" | "bubble"; name?: string };
  idempotency_key?: string;
  preferred_service?: Service;
  reply_to?: { message_id: string; part_index?: number };
}

export interface WirePart {
  type: "text" | "media" | "link" | "imessage_app";
  value?: string;
  text_decorations?: { range: number[]; style?: TextDecoration["style"]; animation?: TextDecoration["animation"] }[];
  url?: string;
  attachment_id?: string;
}

const invalid = (field: string, reason: string) =>
  new DomainError("invalid_message_content", `${field}${reason}`, { field, reason });

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
      throw invalid(`${field}.type`, ": imessage_app parts are not supported by this server");
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
