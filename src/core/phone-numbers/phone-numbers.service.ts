import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import { ACCEPTED_PHONE_FORMATS, normalizeHandle, parseStrictPhone } from "../handles.ts";
import { LINE_REPUTATIONS, LINE_STATUSES, type LineReputation, type LineStatus, type PhoneNumber, type User } from "../model.ts";
import { emitEvent } from "../webhooks/events.ts";

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

/**
 * The network changes a line's status (ACTIVE, FLAGGED) or reputation (HEALTHY, AT_RISK,
 * CRITICAL): phone_number.status_updated tells subscribers. A change to what the line
 * already has emits nothing.
 */
export async function changeLineStanding(
  deps: CoreDeps,
  orgId: number,
  phoneNumber: string,
  changes: { status?: string | undefined; reputation?: string | undefined },
): Promise<PhoneNumber> {
  if (changes.status !== undefined && !(LINE_STATUSES as readonly string[]).includes(changes.status)) {
    throw new DomainError("validation_failed", `status must be one of ${LINE_STATUSES.join(", ")}`, {
      field: "status",
      reason: ` must be one of ${LINE_STATUSES.join(", ")}`,
    });
  }
  if (changes.reputation !== undefined && !(LINE_REPUTATIONS as readonly string[]).includes(changes.reputation)) {
    throw new DomainError("validation_failed", `reputation must be one of ${LINE_REPUTATIONS.join(", ")}`, {
      field: "reputation",
      reason: ` must be one of ${LINE_REPUTATIONS.join(", ")}`,
    });
  }
  return deps.store.transaction(async (tx) => {
    const line = await tx.phoneNumbers.findByNumber(orgId, phoneNumber);
    if (!line) throw notFound("phone_number_not_found", `Phone number ${phoneNumber} is not one of your lines`);
    const status = (changes.status as LineStatus | undefined) ?? line.status;
    const reputation = (changes.reputation as LineReputation | undefined) ?? line.reputation;
    if (status === line.status && reputation === line.reputation) return line;
    const now = deps.clock.now();
    const updated = await tx.phoneNumbers.setStanding(line.id, { status, reputation }, now);
    const facts = {
      id: line.id,
      uuid: line.uuid,
      phoneNumber: line.phoneNumber,
      previousStatus: line.status,
      status,
      previousReputation: line.reputation,
      reputation,
    };
    await emitEvent(tx, deps, orgId, { type: "phone_number.status_updated", line: facts, at: now.toISOString() });
    return updated;
  });
}
