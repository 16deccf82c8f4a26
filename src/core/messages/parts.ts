import { DomainError } from "../errors.ts";
import type { AppCardLayout, AppCardPart, Attachment, Message, MessageEffect, MessagePart, TextDecoration } from "../model.ts";

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

/**
 * What V2 shows as a message's `text`: its text parts joined by a newline, links as their
 * URL, an app card as the text a surface without cards shows (its fallback text, else its
 * caption, else the app's name).
 */
export function textOfParts(parts: readonly OutgoingPart[]): string {
  return parts
    .flatMap((part) => {
      if (part.type === "text" || part.type === "link") return [part.value];
      if (part.type === "imessage_app") return [part.fallbackText ?? part.layout.caption ?? part.app.name];
      return [];
    })
    .join("\n");
}

/** Whether a message is an iMessage app card (a card is always the only part). */
export function appCardOf(parts: readonly MessagePart[] | null): AppCardPart | undefined {
  const first = parts?.[0];
  return first?.type === "imessage_app" ? first : undefined;
}

/** A part as a sender gives it: media may still be a URL to download. */
export type OutgoingPart = MessagePart | { type: "media"; url: string };

export const MAX_PARTS = 100;
export const MAX_PART_TEXT_LENGTH = 10_000;
export const MAX_LINK_LENGTH = 2_048;
export const MAX_MEDIA_URLS = 40;
const MAX_APP_CARD_URL_LENGTH = 2_048;
const MAX_APP_CARD_DATA_URL_LENGTH = 16_384;
const TEAM_ID = /^[A-Z0-9]{10}$/;

const SCREEN_EFFECTS = [
  "confetti", "fireworks", "lasers", "sparkles", "celebration", "hearts", "love", "balloons", "happy_birthday", "echo", "spotlight",
];
const BUBBLE_EFFECTS = ["slam", "loud", "gentle", "invisible"];

const invalid = (field: string, reason: string) =>
  new DomainError("invalid_message_content", `${field}${reason}`, { field, reason });
const invalidCard = (field: string, reason: string) =>
  new DomainError("invalid_app_card", `${field}${reason}`, { field, reason });

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
    } else if (part.type === "imessage_app") {
      if (parts.length > 1) throw invalid(at, " is an iMessage app card, which must be the only part of a message");
      validateAppCard(part, at);
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

/**
 * An app card: the app's identity (bundle id without ":", a name, a 10-character upper-case
 * team id), its layout and the URL the app opens. `field` is the card's domain path.
 */
function validateAppCard(card: AppCardPart, field: string): void {
  const { app } = card;
  if (app.bundleId.length === 0 || app.bundleId.includes(":")) {
    throw invalidCard(`${field}.app.bundleId`, " must be a bundle identifier without \":\"");
  }
  if (app.name.trim().length === 0) throw invalidCard(`${field}.app.name`, " must not be empty");
  if (!TEAM_ID.test(app.teamId)) throw invalidCard(`${field}.app.teamId`, " must be 10 upper-case letters or digits");
  if (app.appStoreId !== undefined && !(Number.isInteger(app.appStoreId) && app.appStoreId > 0)) {
    throw invalidCard(`${field}.app.appStoreId`, " must be a positive integer");
  }
  validateAppCardContent(card, field);
}

/**
 * What an update may change too: the layout (at least one caption or the image; image title
 * and subtitle only over an image), the fallback text and the URL (https up to 2,048
 * characters, or a data: URL carrying the app's state up to 16,384). `field` is the card's
 * domain path, "" when the fields stand alone (an update's body).
 */
export function validateAppCardContent(card: Pick<AppCardPart, "layout" | "fallbackText" | "url">, field: string): void {
  const at = (name: string) => (field === "" ? name : `${field}.${name}`);
  validateLayout(card.layout, at("layout"));
  if (card.fallbackText !== null && (card.fallbackText.length === 0 || card.fallbackText.length > MAX_PART_TEXT_LENGTH)) {
    throw invalidCard(at("fallbackText"), ` must be 1 to ${MAX_PART_TEXT_LENGTH} characters`);
  }
  if (card.url !== null) {
    const isData = card.url.startsWith("data:");
    const limit = isData ? MAX_APP_CARD_DATA_URL_LENGTH : MAX_APP_CARD_URL_LENGTH;
    if (!(isData || isHttpsUrl(card.url)) || card.url.length > limit) {
      throw invalidCard(
        at("url"),
        ` must be an https URL of at most ${MAX_APP_CARD_URL_LENGTH} characters or a data: URL of at most ${MAX_APP_CARD_DATA_URL_LENGTH}`,
      );
    }
  }
}

function validateLayout(layout: AppCardLayout, field: string): void {
  const { caption, subcaption, trailingCaption, trailingSubcaption, imageUrl } = layout;
  if ([caption, subcaption, trailingCaption, trailingSubcaption, imageUrl].every((value) => value === undefined || value === "")) {
    throw invalidCard(field, " must have a caption, subcaption, trailing caption, trailing subcaption or image URL");
  }
  if (imageUrl === undefined && (layout.imageTitle !== undefined || layout.imageSubtitle !== undefined)) {
    throw invalidCard(field, ": an image title or subtitle needs an image URL");
  }
  if (imageUrl !== undefined && (imageUrl.length > MAX_LINK_LENGTH || !isWebUrl(imageUrl))) {
    throw invalidCard(`${field}.imageUrl`, ` must be an http(s) URL of at most ${MAX_LINK_LENGTH} characters`);
  }
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
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
