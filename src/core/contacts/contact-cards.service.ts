import { resolveOwnNumber } from "../chats/chats.service.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import type { ContactCard } from "../model.ts";

/**
 * Contact cards: the name and photo one of our lines shares in chats (iMessage's Name and
 * Photo Sharing). One card per line; it applies at once here, so a stored card is active.
 */
export async function listContactCards(deps: CoreDeps, orgId: number, phoneNumber?: string): Promise<ContactCard[]> {
  const repos = deps.store.read;
  const line = phoneNumber === undefined ? undefined : await resolveOwnNumber(repos, orgId, phoneNumber, "phoneNumber");
  return repos.contactCards.list(orgId, line?.id);
}

export interface ContactCardFields {
  firstName?: string | undefined;
  lastName?: string | undefined;
  imageUrl?: string | undefined;
}

function checkFields(fields: ContactCardFields): void {
  if (fields.firstName !== undefined && fields.firstName.trim() === "") {
    throw new DomainError("validation_failed", "firstName must not be empty", { field: "firstName", reason: " must not be empty" });
  }
  if (fields.imageUrl !== undefined && !/^https?:\/\/\S+$/.test(fields.imageUrl)) {
    throw new DomainError("validation_failed", "imageUrl must be an http(s) URL", { field: "imageUrl", reason: " must be an http(s) URL" });
  }
}

export async function createContactCard(
  deps: CoreDeps,
  orgId: number,
  phoneNumber: string,
  fields: ContactCardFields & { firstName: string },
): Promise<ContactCard> {
  checkFields(fields);
  const line = await resolveOwnNumber(deps.store.read, orgId, phoneNumber, "phoneNumber");
  return deps.store.transaction(async (tx) => {
    await tx.contactCards.create(
      {
        orgId,
        phoneNumberId: line.id,
        firstName: fields.firstName.trim(),
        lastName: fields.lastName?.trim() || null,
        imageUrl: fields.imageUrl ?? null,
        isActive: true,
      },
      deps.clock.now(),
    );
    return (await tx.contactCards.findByPhoneNumber(line.id))!;
  });
}

/** Merges the given fields into the line's card (contact_card_not_found without one). */
export async function updateContactCard(
  deps: CoreDeps,
  orgId: number,
  phoneNumber: string,
  fields: ContactCardFields,
): Promise<ContactCard> {
  checkFields(fields);
  const line = await resolveOwnNumber(deps.store.read, orgId, phoneNumber, "phoneNumber");
  return deps.store.transaction(async (tx) => {
    const card = await tx.contactCards.findByPhoneNumber(line.id);
    if (!card || !card.isActive) throw new DomainError("contact_card_not_found", "This number has no contact card yet");
    await tx.contactCards.update(
      line.id,
      { firstName: fields.firstName?.trim(), lastName: fields.lastName?.trim(), imageUrl: fields.imageUrl },
      deps.clock.now(),
    );
    return (await tx.contactCards.findByPhoneNumber(line.id))!;
  });
}
