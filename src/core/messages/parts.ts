import { DomainError } from "../errors.ts";
import type { Attachment, Message, MessageEffect, MessagePart, TextDecoration } from "../model.ts";

/**
 * Parts of a message in order. A message stored in the V2 shape (no parts) is its text,
 * when not empty, followed by its attachments in the order they were sent.
 */
export function messageParts(message: Message, attachments: readonly Attachment[]): MessagePart[] {
  if (message.parts !== null) return message.parts;
  const parts: MessagePart[] = [];
  if (message.text !== "") parts.push({ type: "text", value: message.text });
  for (const attachment of attachments) parts.push({ type: "media", attachmentId: attachment.id });
  return parts;
}

/** What V2 shows as a message's `text`: its text parts joined by a newline, links as their URL. */
export function textOfParts(parts: readonly OutgoingPart[]): string {
  return parts
    .flatMap((part) => (part.type === "text" || part.type === "link" ? [part.value] : []))
    .join("\n");
}

/** A part as a sender gives it: media may still be a URL to download. */
export type OutgoingPart = MessagePart | { type: "media"; url: string };

export const MAX_PARTS = 100;
export const MAX_PART_TEXT_LENGTH = 10_000;
export const MAX_LINK_LENGTH = 2_048;
export const MAX_MEDIA_URLS = 40;

const SCREEN_EFFECTS = [
  "confetti", "fireworks", "lasers", "sparkles", "celebration", "hearts", "love", "balloons", "happy_birthday", "echo", "spotlight",
];
const BUBBLE_EFFECTS = ["slam", "loud", "gentle", "invisible"];

const invalid = (field: string, reason: string) =>
  new DomainError("invalid_message_content", `${field}${reason}`, { field, reason });

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * The rules between parts: 1–100 parts; no two text parts in a row; a link is the only
 * part; text 1–10,000 characters; decorations inside the text, one style or animation each,
 * animations overlapping nothing. `field` is the domain path of the list (`message.parts`).
 */
export function validateParts(parts: readonly OutgoingPart[], field: string): void {
  if (parts.length === 0) throw invalid(field, " must contain at least one part");
  if (parts.length > MAX_PARTS) throw invalid(field, ` may contain at most ${MAX_PARTS} parts`);
  let urls = 0;
  parts.forEach((part, index) => {
    const at = `${field}[${index}]`;
    if (part.type === "text") {
      if (part.value.length === 0) throw invalid(`${at}.value`, " must not be empty");
      if (part.value.length > MAX_PART_TEXT_LENGTH) {
        throw invalid(`${at}.value`, ` is longer than ${MAX_PART_TEXT_LENGTH} characters`);
      }
      if (index > 0 && parts[index - 1]!.type === "text") {
        throw invalid(at, " follows another text part; join consecutive text parts into one");
      }
      validateDecorations(part.value, part.textDecorations ?? [], `${at}.textDecorations`);
    } else if (part.type === "link") {
      if (parts.length > 1) throw invalid(at, " is a link, which must be the only part of a message");
      if (part.value.length > MAX_LINK_LENGTH || !isWebUrl(part.value)) {
        throw invalid(`${at}.value`, ` must be an http(s) URL of at most ${MAX_LINK_LENGTH} characters`);
      }
    } else if ("url" in part) {
      urls += 1;
      if (!isWebUrl(part.url)) throw invalid(`${at}.url`, " must be an http(s) URL");
    }
  });
  if (urls > MAX_MEDIA_URLS) throw invalid(field, ` may carry at most ${MAX_MEDIA_URLS} media parts by URL`);
}

function validateDecorations(text: string, decorations: readonly TextDecoration[], field: string): void {
  decorations.forEach((decoration, index) => {
    const at = `${field}[${index}]`;
    const [start, end] = decoration.range;
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= text.length)) {
      throw invalid(`${at}.range`, ` must be [start, end) within the text (0–${text.length})`);
    }
    if ((decoration.style === undefined) === (decoration.animation === undefined)) {
      throw invalid(at, " must have exactly one of style or animation");
    }
    if (decoration.animation !== undefined) {
      decorations.forEach((other, otherIndex) => {
        if (otherIndex !== index && other.range[0] < end && start < other.range[1]) {
          throw invalid(at, " is an animation, which must not overlap another decoration");
        }
      });
    }
  });
}

/** One effect: a known screen effect or bubble effect. */
export function validateEffect(effect: MessageEffect, field: string): void {
  const names = effect.type === "screen" ? SCREEN_EFFECTS : effect.type === "bubble" ? BUBBLE_EFFECTS : [];
  if (!names.includes(effect.name)) {
    throw new DomainError(
      "validation_failed",
      `${field} must be a screen effect (${SCREEN_EFFECTS.join(", ")}) or a bubble effect (${BUBBLE_EFFECTS.join(", ")})`,
      { field, reason: ` must be a screen effect (${SCREEN_EFFECTS.join(", ")}) or a bubble effect (${BUBBLE_EFFECTS.join(", ")})` },
    );
  }
}
