/**
 * The closed list of failures core can report. Each HTTP face maps a code to a status
 * and its own envelope in one exhaustive switch (see src/http/errors.ts).
 */
export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "invalid_phone_number"
  | "unauthorized"
  | "forbidden"
  | "chat_not_found"
  | "message_not_found"
  | "reaction_not_found"
  | "contact_not_found"
  | "phone_number_not_found"
  | "webhook_subscription_not_found"
  | "event_not_found"
  | "handle_not_found"
  | "attachment_not_found"
  | "fault_not_found"
  | "user_not_found"
  | "sender_not_owned"
  | "attachment_download_failed"
  | "attachment_too_large"
  | "attachment_type_not_allowed"
  | "url_not_allowed"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "conflict"
  | "internal";

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const notFound = (
  code: Extract<ErrorCode, `${string}_not_found`>,
  message: string,
): DomainError => new DomainError(code, message);
