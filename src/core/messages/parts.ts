import type { Attachment, Message, MessagePart } from "../model.ts";

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
export function textOfParts(parts: readonly MessagePart[]): string {
  return parts
    .flatMap((part) => (part.type === "text" || part.type === "link" ? [part.value] : []))
    .join("\n");
}
