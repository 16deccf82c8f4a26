import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import { ACCEPTED_PHONE_FORMATS, normalizeHandle, parseStrictPhone } from "../handles.ts";
import type { PhoneNumber, User } from "../model.ts";

export interface PhoneNumberWithUser {
  number: PhoneNumber;
  user: User | undefined;
}

export async function listPhoneNumbers(deps: CoreDeps, orgId: number): Promise<PhoneNumberWithUser[]> {
  const repos = deps.store.read;
  const numbers = await repos.phoneNumbers.listByOrg(orgId);
  const users = new Map<number, User | undefined>();
  for (const number of numbers) {
    if (!users.has(number.userId)) users.set(number.userId, await repos.users.findById(orgId, number.userId));
  }
  return numbers.map((number) => ({ number, user: users.get(number.userId) }));
}

/**
 * Sets or clears (null or "") where calls go when the line is unavailable. The number
 * follows the quickstart's rule for every phone number (`+12223334444` or `2223334444`);
 * only contacts are lenient about punctuation.
 */
export async function updateForwardingNumber(
  deps: CoreDeps,
  orgId: number,
  id: number,
  forwardingNumber: string | null,
): Promise<PhoneNumberWithUser> {
  let normalized: string | null = null;
  if (forwardingNumber !== null && forwardingNumber.trim() !== "") {
    normalized = parseStrictPhone(forwardingNumber) ?? null;
    if (!normalized) {
      throw new DomainError(
        "invalid_phone_number",
        `forwarding_number "${forwardingNumber}" is not a valid phone number; use ${ACCEPTED_PHONE_FORMATS}`,
        { field: "forwarding_number" },
      );
    }
  }
  return deps.store.transaction(async (tx) => {
    const number = await tx.phoneNumbers.findById(orgId, id);
    if (!number) throw notFound("phone_number_not_found", "Phone number not found");
    const updated = await tx.phoneNumbers.setForwardingNumber(id, normalized, deps.clock.now());
    return { number: updated, user: await tx.users.findById(orgId, updated.userId) };
  });
}

export async function checkIMessageAvailability(
  deps: CoreDeps,
  orgId: number,
  handle: string,
): Promise<{ available: boolean; phoneNumber: string }> {
  const normalized = normalizeHandle(handle, "phoneNumber");
  return { available: await deps.transport.supportsIMessage(orgId, normalized), phoneNumber: normalized };
}
