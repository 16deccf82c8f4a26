import { DomainError } from "../../core/errors.ts";
import { isEmailHandle } from "../../core/handles.ts";

/**
 * V3 takes phone numbers in strict E.164 only (`+` and 7–15 digits, no spaces or dashes):
 * unlike V2 it never assumes a country. Core then checks the number itself.
 */
const E164 = /^\+[1-9]\d{6,14}$/;

export function requireE164(value: string, field: string): void {
  if (!E164.test(value)) {
    throw new DomainError("invalid_phone_number", `${field}: "${value}" is not an E.164 phone number (like +12223334444)`, {
      field,
      reason: `: "${value}" is not an E.164 phone number (like +12223334444)`,
    });
  }
}

/** A participant: an email address, or a phone number in E.164. */
export function requireHandle(value: string, field: string): void {
  if (!isEmailHandle(value)) requireE164(value, field);
}
