/**
 * The closed list of failures core can report. Each HTTP face maps a code to its own
 * status, wire code and envelope in one exhaustive switch (src/http/v2/errors.ts,
 * src/http/v3/errors.ts; the openlinq faces use src/http/errors.ts).
 */
export type ErrorCode =
  | "bad_request"
  | "missing_parameter"
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
  | "scenario_not_found"
  | "token_not_found"
  | "listener_not_found"
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
  | "invalid_message_content"
  | "invalid_app_card"
  | "app_card_requires_imessage"
  | "message_type_not_supported"
  | "direct_chat_not_supported"
  | "group_chat_not_supported"
  | "service_not_supported"
  | "chat_unavailable"
  | "contact_card_exists"
  | "contact_card_not_found"
  | "attachment_not_ready"
  | "content_type_mismatch"
  | "internal";

/**
 * What a failure says beyond its code.
 *
 * `field` names the input at fault as a **domain path**, never a wire name: camelCase
 * domain names joined by `.`, list items as `[i]` — `sender`, `recipients`,
 * `recipients[2]`, `message.text`, `message.idempotencyKey`, `message.attachmentUrls[0]`,
 * `participants[1]`, `phoneNumber`. Each face maps the path to the name its callers sent
 * (V2 `send_from` or `phone_number`, `chat.phone_numbers[2]`, …).
 *
 * When `field` is set through `fieldError`, `reason` is the message without the field:
 * `message === field + reason`, so a face renders `wireName(field) + reason`.
 */
export interface ErrorDetails {
  field?: string;
  reason?: string;
  /** Seconds until a rate-limited caller may retry. */
  retryAfter?: number;
  /** Which unique key a `conflict` hit ("chat", "message"): lets core retry a race. */
  resource?: string;
  [key: string]: unknown;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const notFound = (
  code: Extract<ErrorCode, `${string}_not_found`>,
  message: string,
): DomainError => new DomainError(code, message);

/**
 * A failure about one input field, phrased so a face can rename the field: the message is
 * `field + reason` (reason starts with " must…" or ": …").
 *
 * @example fieldError("validation_failed", "recipients", " must list at least one recipient")
 */
export const fieldError = (code: ErrorCode, field: string, reason: string): DomainError =>
  new DomainError(code, `${field}${reason}`, { field, reason });
