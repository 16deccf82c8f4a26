import { withHandles } from "../../core/chats/chat-loading.ts";
import { participantsKey } from "../../core/chats/chat-names.ts";
import { MAX_RECIPIENTS } from "../../core/chats/chats.service.ts";
import { normalizeFields, type ContactInput } from "../../core/contacts/contacts.service.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DomainError } from "../../core/errors.ts";
import { normalizeHandle } from "../../core/handles.ts";
import { MAX_TEXT_LENGTH } from "../../core/messages/messages.service.ts";
import type { ContactFields } from "../../core/ports.ts";
import type { SimulatorRepositories } from "./ports.ts";
import { commonService, type HandleProfileSettings } from "./profiles/profile.ts";
import { checkProfile, parseProfileChanges } from "./profiles/profile-input.ts";
import { resolveProfile } from "./profiles/profiles.service.ts";

/**
 * The seed file (OPENLINQ_SEED_FILE): the sandbox's world as it was before you connected —
 * device profiles, contacts, and chats with their history. Loaded into a fresh organization
 * at start and again by POST /openlinq/v1/reset. Seeding writes state only: no webhook
 * fires for seeded rows, since nothing happened while you were listening.
 *
 * ```yaml
 * profiles:
 *   "+15551234567": { read_after_ms: 2000, auto_reply: { type: echo, delay_ms: 1000 } }
 * contacts:
 *   - { first_name: Ada, last_name: Lovelace, phone_number: "+15551234567" }
 * chats:
 *   - send_from: "+19998887777"          # optional: your first number
 *     phone_numbers: ["+15551234567"]
 *     messages:
 *       - { from: "+15551234567", text: "Hi, is the order ready?" }
 *       - { text: "Yes, pick it up anytime." }   # no `from`: sent by you
 * ```
 */

export interface SeedProfile {
  field: string;
  handle: string;
  changes: Partial<HandleProfileSettings>;
}

export interface SeedContact {
  field: string;
  fields: Partial<ContactFields>;
}

export interface SeedMessage {
  field: string;
  /** Sender handle; undefined: sent by us. */
  from: string | undefined;
  text: string;
  sentAt: Date | undefined;
  read: boolean;
}

export interface SeedChat {
  field: string;
  sendFrom: string | undefined;
  recipients: string[];
  displayName: string | null;
  messages: SeedMessage[];
}

export interface Seed {
  profiles: SeedProfile[];
  contacts: SeedContact[];
  chats: SeedChat[];
}

export const EMPTY_SEED: Seed = { profiles: [], contacts: [], chats: [] };

/** Every problem of a seed document, one line each. */
export class SeedError extends Error {
  constructor(readonly problems: string[]) {
    super(`the seed file has problems:\n  - ${problems.join("\n  - ")}`);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * YAML reads an unquoted +15551234567 as the number 15551234567; take it back as a handle.
 * Ten digits stay national (US), longer ones regain their "+".
 */
function handleText(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) {
    const digits = String(value);
    return digits.length === 10 ? digits : `+${digits}`;
  }
  throw new DomainError("validation_failed", `${field} must be a phone number or email (quote phone numbers)`, { field });
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new DomainError("validation_failed", `${field} must be a list`, { field });
  return value;
}

function parseProfiles(value: unknown): { handle: unknown; settings: unknown; field: string }[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value.map((entry, i) => {
      const { handle, ...settings } = isObject(entry) ? entry : { handle: undefined };
      return { handle, settings, field: `profiles[${i}]` };
    });
  }
  if (isObject(value)) {
    return Object.entries(value).map(([handle, settings]) => ({ handle, settings, field: `profiles["${handle}"]` }));
  }
  throw new DomainError("validation_failed", "profiles must be a map of handle → settings, or a list", { field: "profiles" });
}

function parseMessage(value: unknown, field: string): SeedMessage {
  if (typeof value === "string") value = { text: value };
  if (!isObject(value)) throw new DomainError("validation_failed", `${field} must be {from?, text, sent_at?, read?}`, { field });
  const text = value.text;
  if (typeof text !== "string" || text.trim() === "" || text.length > MAX_TEXT_LENGTH) {
    throw new DomainError("validation_failed", `${field}.text must be non-empty text of at most ${MAX_TEXT_LENGTH} characters`, { field });
  }
  let sentAt: Date | undefined;
  if (value.sent_at !== undefined) {
    sentAt = value.sent_at instanceof Date ? value.sent_at : new Date(String(value.sent_at));
    if (Number.isNaN(sentAt.getTime())) throw new DomainError("validation_failed", `${field}.sent_at must be an ISO 8601 date-time`, { field });
  }
  if (value.read !== undefined && typeof value.read !== "boolean") {
    throw new DomainError("validation_failed", `${field}.read must be true or false`, { field });
  }
  const from = value.from === undefined || value.from === null ? undefined : normalizeHandle(handleText(value.from, `${field}.from`), `${field}.from`);
  return { field, from, text, sentAt, read: value.read === true };
}

function parseChat(value: unknown, field: string): SeedChat {
  if (!isObject(value)) throw new DomainError("validation_failed", `${field} must be {send_from?, phone_numbers, display_name?, messages?}`, { field });
  const recipients = list(value.phone_numbers, `${field}.phone_numbers`).map((r, i) =>
    normalizeHandle(handleText(r, `${field}.phone_numbers[${i}]`), `${field}.phone_numbers[${i}]`),
  );
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) {
    throw new DomainError("validation_failed", `${field}.phone_numbers must list 1 to ${MAX_RECIPIENTS} recipients`, { field });
  }
  if (new Set(recipients).size !== recipients.length) {
    throw new DomainError("validation_failed", `${field}.phone_numbers lists a recipient twice`, { field });
  }
  if (value.display_name !== undefined && typeof value.display_name !== "string") {
    throw new DomainError("validation_failed", `${field}.display_name must be text`, { field });
  }
  return {
    field,
    sendFrom: value.send_from === undefined ? undefined : normalizeHandle(handleText(value.send_from, `${field}.send_from`), `${field}.send_from`, false),
    recipients,
    displayName: typeof value.display_name === "string" && value.display_name.trim() !== "" ? value.display_name.trim() : null,
    messages: list(value.messages, `${field}.messages`).map((m, i) => parseMessage(m, `${field}.messages[${i}]`)),
  };
}

/** Reads a parsed YAML/JSON document; throws SeedError listing every problem found. */
export function parseSeed(document: unknown): Seed {
  if (document === undefined || document === null) return EMPTY_SEED;
  if (!isObject(document)) throw new SeedError(["the document must be a map with profiles, contacts and chats"]);
  const problems: string[] = [];
  const collect = <T>(work: () => T): T | undefined => {
    try {
      return work();
    } catch (error) {
      if (error instanceof DomainError) {
        problems.push(error.message);
        return undefined;
      }
      throw error;
    }
  };
  for (const key of Object.keys(document)) {
    if (!["profiles", "contacts", "chats"].includes(key)) problems.push(`${key} is not a seed section; use profiles, contacts, chats`);
  }
  const seed: Seed = { profiles: [], contacts: [], chats: [] };
  for (const entry of collect(() => parseProfiles(document.profiles)) ?? []) {
    const profile = collect(() => {
      const handle = normalizeHandle(handleText(entry.handle, `${entry.field}.handle`), `${entry.field}.handle`);
      const changes = parseProfileChanges(entry.settings ?? {}, entry.field);
      return { field: entry.field, handle, changes };
    });
    if (profile) seed.profiles.push(profile);
  }
  for (const [i, entry] of (collect(() => list(document.contacts, "contacts")) ?? []).entries()) {
    const contact = collect(() => {
      const field = `contacts[${i}]`;
      if (!isObject(entry)) throw new DomainError("validation_failed", `${field} must be a map of contact fields`);
      const input = { ...entry } as ContactInput & Record<string, unknown>;
      if (typeof entry.phone_number === "number") input.phone_number = handleText(entry.phone_number, `${field}.phone_number`);
      try {
        const fields = normalizeFields(input);
        if (!fields.firstName && !fields.lastName && !fields.email && !fields.phoneNumber) {
          throw new DomainError("validation_failed", "at least one of first_name, last_name, email or phone_number is required");
        }
        return { field, fields };
      } catch (error) {
        if (error instanceof DomainError) throw new DomainError(error.code, `${field}: ${error.message}`);
        throw error;
      }
    });
    if (contact) seed.contacts.push(contact);
  }
  for (const [i, entry] of (collect(() => list(document.chats, "chats")) ?? []).entries()) {
    const chat = collect(() => parseChat(entry, `chats[${i}]`));
    if (chat) seed.chats.push(chat);
  }
  if (problems.length > 0) throw new SeedError(problems);
  return seed;
}

export interface SeedSummary {
  profiles: number;
  contacts: number;
  chats: number;
  messages: number;
}

const MINUTE = 60_000;

/**
 * Writes the seed into the org inside `tx`. Checks what needs the database (senders must
 * be the org's numbers, recipients must not); throws validation_failed naming the entry.
 * Messages without `sent_at` are spaced a minute apart, the last one a minute ago.
 */
export async function applySeed(tx: SimulatorRepositories, deps: Pick<CoreDeps, "clock">, orgId: number, seed: Seed): Promise<SeedSummary> {
  const now = deps.clock.now();
  const numbers = await tx.phoneNumbers.listByOrg(orgId);
  const ours = new Set(numbers.map((n) => n.phoneNumber));
  const notOurs = (handle: string, field: string) => {
    if (ours.has(handle)) throw new DomainError("validation_failed", `${field}: ${handle} is one of your own numbers, not a recipient`, { field });
  };
  for (const profile of seed.profiles) {
    notOurs(profile.handle, `${profile.field}.handle`);
    const settings = { ...resolveProfile(profile.handle, undefined), ...profile.changes };
    checkProfile(profile.handle, settings, profile.field);
    await tx.handleProfiles.save(orgId, profile.handle, settings, now);
  }
  const owner = await tx.users.firstAdmin(orgId);
  for (const contact of seed.contacts) {
    await tx.contacts.create(
      orgId,
      owner?.id ?? null,
      {
        firstName: contact.fields.firstName ?? "",
        lastName: contact.fields.lastName ?? "",
        email: contact.fields.email ?? "",
        phoneNumber: contact.fields.phoneNumber ?? "",
        company: contact.fields.company ?? "",
        title: contact.fields.title ?? "",
        location: contact.fields.location ?? "",
      },
      now,
    );
  }
  let messageCount = 0;
  for (const entry of seed.chats) {
    const sender = entry.sendFrom === undefined ? numbers[0] : numbers.find((n) => n.phoneNumber === entry.sendFrom);
    if (!sender) {
      throw new DomainError(
        "validation_failed",
        entry.sendFrom === undefined
          ? `${entry.field}: your organization has no phone number to send from`
          : `${entry.field}.send_from: ${entry.sendFrom} is not a phone number of your organization`,
      );
    }
    entry.recipients.forEach((handle, i) => notOurs(handle, `${entry.field}.phone_numbers[${i}]`));
    const key = participantsKey(entry.recipients);
    if (await tx.chats.findByParticipants(sender.id, key)) {
      throw new DomainError("validation_failed", `${entry.field}: a chat between ${sender.phoneNumber} and these participants is seeded twice`);
    }
    const profiles = await tx.handleProfiles.findMany(orgId, entry.recipients);
    const serviceOf = (handle: string) => resolveProfile(handle, profiles.find((p) => p.handle === handle)).service;
    const service = commonService(entry.recipients.map(serviceOf));
    const created = await tx.chats.create({
      orgId,
      phoneNumberId: sender.id,
      displayName: entry.displayName,
      service,
      isGroup: entry.recipients.length > 1,
      participantsKey: key,
      now,
      handles: [
        { handle: sender.phoneNumber, service, isMe: true },
        ...entry.recipients.map((handle) => ({ handle, service: serviceOf(handle), isMe: false })),
      ],
    });
    const chat = (await withHandles(tx, [created]))[0]!;
    let lastAt: Date | null = null;
    for (const [i, message] of entry.messages.entries()) {
      const fromUs = message.from === undefined || message.from === sender.phoneNumber;
      const author = chat.handles.find((h) => (fromUs ? h.isMe : h.handle === message.from));
      if (!author) {
        throw new DomainError("validation_failed", `${message.field}.from: ${message.from} is not a participant of this chat`);
      }
      const sentAt = message.sentAt ?? new Date(now.getTime() - (entry.messages.length - i) * MINUTE);
      await tx.messages.create({
        orgId,
        chatId: chat.chat.id,
        chatHandleId: author.id,
        isFromMe: fromUs,
        text: message.text,
        sentAt,
        deliveredAt: sentAt,
        deliveryStatus: "delivered",
        editedAt: null,
        isRead: message.read,
        readAt: message.read ? sentAt : null,
        idempotencyKey: null,
      });
      if (!lastAt || sentAt > lastAt) lastAt = sentAt;
    }
    await tx.chats.recordActivity(chat.chat.id, entry.messages.length, lastAt);
    messageCount += entry.messages.length;
  }
  return { profiles: seed.profiles.length, contacts: seed.contacts.length, chats: seed.chats.length, messages: messageCount };
}
