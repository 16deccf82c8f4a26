import { parsePhoneNumberFromString } from "libphonenumber-js";
import { DomainError, fieldError } from "./errors.ts";
import type { Repositories } from "./ports.ts";

/**
 * Handles are how a chat participant is addressed: an E.164 phone number or an email.
 *
 * Chat endpoints follow the seed strictly: `+12223334444` or `2223334444` (US assumed),
 * digits only; punctuated forms such as `555-123-4567` are refused. Contacts are lenient
 * and strip punctuation first (Linq's V2 phone number rules). Both use libphonenumber for the number itself;
 * we require a *possible* number (right length for its country) rather than a *valid* one,
 * because the quickstart's own numbers (555, 999 area codes) are fictional.
 */
export const ACCEPTED_PHONE_FORMATS = "+12223334444 (E.164) or 2223334444 (US, +1 assumed)";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const STRICT_PHONE = /^\+?\d{7,15}$/;
const PUNCTUATION = /[\s\-().]/g;

export function isEmailHandle(handle: string): boolean {
  return handle.includes("@");
}

/** Numbers parsed lately (null: refused); parsing one costs tens of µs, and clients send the same few. */
const parsedNumbers = new Map<string, string | null>();
const MAX_PARSED_NUMBERS = 1024;

function toE164(digits: string): string | undefined {
  const known = parsedNumbers.get(digits);
  if (known !== undefined) return known ?? undefined;
  const parsed = parsePhoneNumberFromString(digits, "US");
  const number = parsed && parsed.isPossible() ? parsed.number : null;
  if (parsedNumbers.size >= MAX_PARSED_NUMBERS) parsedNumbers.clear();
  parsedNumbers.set(digits, number);
  return number ?? undefined;
}

/** Strict phone parsing for our own numbers and chat recipients. Returns undefined when refused. */
export function parseStrictPhone(input: string): string | undefined {
  const trimmed = input.trim();
  if (!STRICT_PHONE.test(trimmed)) return undefined;
  return toE164(trimmed);
}

/** Lenient phone parsing (contacts): accepts `(555) 123-4567`, `555.123.4567`, … */
export function parseLenientPhone(input: string): string | undefined {
  const stripped = input.trim().replace(PUNCTUATION, "");
  if (!STRICT_PHONE.test(stripped)) return undefined;
  return toE164(stripped);
}

export function parseEmail(input: string): string | undefined {
  const trimmed = input.trim().toLowerCase();
  return EMAIL.test(trimmed) ? trimmed : undefined;
}

/**
 * Normalizes a chat participant (phone or email). Throws invalid_phone_number naming the
 * domain field (`recipients[2]`) and the accepted formats.
 */
export function normalizeHandle(input: string, field: string, allowEmail = true): string {
  if (allowEmail && isEmailHandle(input)) {
    const email = parseEmail(input);
    if (email) return email;
    throw fieldError("invalid_phone_number", field, `: "${input}" is not a valid email address`);
  }
  const phone = parseStrictPhone(input);
  if (phone) return phone;
  throw fieldError("invalid_phone_number", field, `: "${input}" is not a valid phone number; use ${ACCEPTED_PHONE_FORMATS}`);
}

const prettyCache = new Map<string, string>();
const PRETTY_CACHE_SIZE = 10_000;

/** `+1 (555) 123-4567` for NANP numbers, international format otherwise; emails unchanged. */
export function prettyHandle(handle: string): string {
  // Formatting is a hot path (every chat listed, every webhook payload) and pure: memoize it.
  let pretty = prettyCache.get(handle);
  if (pretty === undefined) {
    pretty = formatHandle(handle);
    if (prettyCache.size >= PRETTY_CACHE_SIZE) prettyCache.delete(prettyCache.keys().next().value!);
    prettyCache.set(handle, pretty);
  }
  return pretty;
}

function formatHandle(handle: string): string {
  if (isEmailHandle(handle)) return handle;
  const parsed = parsePhoneNumberFromString(handle);
  if (!parsed) return handle;
  if (parsed.countryCallingCode === "1" && parsed.nationalNumber.length === 10) {
    return `+1 ${parsed.formatNational()}`;
  }
  return parsed.formatInternational();
}

/** A recipient handle (phone or email), never one of the org's own numbers. */
export async function normalizeExternalHandle(
  repos: Pick<Repositories, "phoneNumbers">,
  orgId: number,
  input: string,
  field: string,
): Promise<string> {
  const handle = normalizeHandle(input, field);
  if (await repos.phoneNumbers.findByNumber(orgId, handle)) {
    throw new DomainError("validation_failed", `${field}: ${handle} is one of your own numbers, not a recipient`, { field });
  }
  return handle;
}
