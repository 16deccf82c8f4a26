import type { CoreDeps } from "../deps.ts";
import { DomainError, fieldError, notFound } from "../errors.ts";
import { ACCEPTED_PHONE_FORMATS, parseEmail, parseLenientPhone } from "../handles.ts";
import type { Contact } from "../model.ts";
import type { ContactFields, Page, PageRequest, Repositories } from "../ports.ts";
import { emitEvent } from "../webhooks/events.ts";
import { contactFacts } from "../events/domain-events.ts";

/** Contact fields as the API receives them; all optional, normalized here. */
export interface ContactInput {
  first_name?: string | undefined;
  last_name?: string | undefined;
  email?: string | undefined;
  phone_number?: string | undefined;
  company?: string | undefined;
  title?: string | undefined;
  location?: string | undefined;
  user_email?: string | undefined;
}

const MAX_FIELD_LENGTH = 255;

export function normalizeFields(input: ContactInput): Partial<ContactFields> {
  const fields: Partial<ContactFields> = {};
  const text = (key: keyof ContactInput, target: keyof ContactFields) => {
    const value = input[key];
    if (value === undefined) return;
    if (value.length > MAX_FIELD_LENGTH) {
      throw fieldError("validation_failed", `contact.${target}`, ` is longer than ${MAX_FIELD_LENGTH} characters`);
    }
    fields[target] = value.trim();
  };
  text("first_name", "firstName");
  text("last_name", "lastName");
  text("company", "company");
  text("title", "title");
  text("location", "location");
  if (input.email !== undefined) {
    if (input.email.trim() === "") fields.email = "";
    else {
      const email = parseEmail(input.email);
      if (!email) {
        throw fieldError("validation_failed", "contact.email", ` "${input.email}" is not a valid email address`);
      }
      fields.email = email;
    }
  }
  if (input.phone_number !== undefined) {
    if (input.phone_number.trim() === "") fields.phoneNumber = "";
    else {
      const phone = parseLenientPhone(input.phone_number);
      if (!phone) {
        throw fieldError(
          "validation_failed",
          "contact.phoneNumber",
          ` "${input.phone_number}" is not a valid phone number; use ${ACCEPTED_PHONE_FORMATS}`,
        );
      }
      fields.phoneNumber = phone;
    }
  }
  return fields;
}

const IDENTIFYING: (keyof ContactFields)[] = ["firstName", "lastName", "email", "phoneNumber"];
const IDENTIFYING_RULE = "at least one of first_name, last_name, email or phone_number is required";

async function resolveOwner(repos: Repositories, orgId: number, userEmail: string | undefined) {
  if (userEmail === undefined) return undefined;
  const user = await repos.users.findByEmail(orgId, userEmail.trim());
  if (!user) {
    throw fieldError("user_not_found", "userEmail", ` ${userEmail} is not a user of your organization`);
  }
  return user;
}

export async function createContact(deps: CoreDeps, orgId: number, input: ContactInput): Promise<Contact> {
  const fields = normalizeFields(input);
  if (!IDENTIFYING.some((key) => fields[key])) {
    throw new DomainError("validation_failed", IDENTIFYING_RULE);
  }
  const contact = await deps.store.transaction(async (tx) => {
    const owner = (await resolveOwner(tx, orgId, input.user_email)) ?? (await tx.users.firstAdmin(orgId));
    const created = await tx.contacts.create(
      orgId,
      owner?.id ?? null,
      {
        firstName: fields.firstName ?? "",
        lastName: fields.lastName ?? "",
        email: fields.email ?? "",
        phoneNumber: fields.phoneNumber ?? "",
        company: fields.company ?? "",
        title: fields.title ?? "",
        location: fields.location ?? "",
      },
      deps.clock.now(),
    );
    await emitEvent(tx, deps, orgId, { type: "contact.created", contact: contactFacts(created) });
    return created;
  });
  return contact;
}

export async function getContact(deps: CoreDeps, orgId: number, id: number): Promise<Contact> {
  const contact = await deps.store.read.contacts.findById(orgId, id);
  if (!contact) throw notFound("contact_not_found", "Contact not found");
  return contact;
}

export async function listContacts(deps: CoreDeps, orgId: number, page: PageRequest): Promise<Page<Contact>> {
  return deps.store.read.contacts.list(orgId, page);
}

/** PUT and PATCH alike: only supplied fields change; the result must still identify someone. */
export async function updateContact(deps: CoreDeps, orgId: number, id: number, input: ContactInput): Promise<Contact> {
  const fields = normalizeFields(input);
  const contact = await deps.store.transaction(async (tx) => {
    const existing = await tx.contacts.findById(orgId, id);
    if (!existing) throw notFound("contact_not_found", "Contact not found");
    const merged = { ...existing, ...fields };
    if (!IDENTIFYING.some((key) => merged[key])) {
      throw new DomainError("validation_failed", IDENTIFYING_RULE);
    }
    const owner = await resolveOwner(tx, orgId, input.user_email);
    const updated = await tx.contacts.update(
      orgId,
      id,
      { ...fields, ...(owner ? { ownerUserId: owner.id } : {}) },
      deps.clock.now(),
    );
    await emitEvent(tx, deps, orgId, { type: "contact.updated", contact: contactFacts(updated) });
    return updated;
  });
  return contact;
}

export async function deleteContact(deps: CoreDeps, orgId: number, id: number): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const existing = await tx.contacts.findById(orgId, id);
    if (!existing) throw notFound("contact_not_found", "Contact not found");
    await tx.contacts.delete(orgId, id);
    await emitEvent(tx, deps, orgId, { type: "contact.deleted", contactId: id });
  });
}

/** Lenient lookup: any common US phone format, or email; OR-match when both are given. */
export async function findContact(
  deps: CoreDeps,
  orgId: number,
  query: { email?: string | undefined; phone_number?: string | undefined },
): Promise<Contact | undefined> {
  const email = query.email?.trim() ? query.email : undefined;
  const phone = query.phone_number?.trim() ? query.phone_number : undefined;
  if (email === undefined && phone === undefined) {
    throw new DomainError("missing_parameter", "email or phoneNumber is required", { field: "email" });
  }
  const by: { email?: string; phoneNumber?: string } = {};
  if (email !== undefined) {
    const parsed = parseEmail(email);
    if (!parsed) throw fieldError("validation_failed", "email", ` "${email}" is not a valid email address`);
    by.email = parsed;
  }
  if (phone !== undefined) {
    const parsed = parseLenientPhone(phone);
    if (!parsed) {
      throw fieldError("validation_failed", "phoneNumber", ` "${phone}" is not a valid phone number`);
    }
    by.phoneNumber = parsed;
  }
  return deps.store.read.contacts.find(orgId, by);
}
