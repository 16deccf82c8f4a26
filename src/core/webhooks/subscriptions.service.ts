import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType, type WebhookSubscription } from "../model.ts";
import type { Repositories } from "../ports.ts";

export interface SubscriptionInput {
  webhook_url?: string | undefined;
  version?: number | undefined;
  events?: string[] | undefined;
  active?: boolean | undefined;
  secret?: string | undefined;
}

export const SUPPORTED_VERSIONS = [2];
/** The API version of subscriptions created through the V2 endpoints (the default of these functions). */
const V2 = 2;

/** The URL as the partner wrote it (trimmed): it is echoed back and compared by them. */
function validUrl(url: string): string {
  const trimmed = url.trim();
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new DomainError("validation_failed", `webhook_url "${url}" is not a valid URL`, { field: "webhook_url" });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new DomainError("validation_failed", "webhook_url must be an http or https URL", { field: "webhook_url" });
  }
  return trimmed;
}

function validEvents(events: string[]): WebhookEventType[] {
  if (events.length === 0) {
    throw new DomainError("validation_failed", "events must list at least one event type", { field: "events" });
  }
  const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length > 0) {
    throw new DomainError(
      "validation_failed",
      `unknown event type(s): ${unknown.join(", ")}; valid: ${WEBHOOK_EVENT_TYPES.join(", ")}`,
      { field: "events" },
    );
  }
  return [...new Set(events)] as WebhookEventType[];
}

function validVersion(version: number): number {
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new DomainError("validation_failed", `version must be 2`, { field: "version" });
  }
  return version;
}

/** Any non-empty secret: the caller chooses how strong it is (HMAC takes keys of any length). */
function validSecret(secret: string): string {
  if (secret === "") {
    throw new DomainError("validation_failed", "secret must not be empty; omit it to have one generated", { field: "secret" });
  }
  return secret;
}

/**
 * `whsec_` + standard base64 of 24 random bytes: the Standard Webhooks secret format, so the
 * standardwebhooks libraries verify our `webhook-signature` with the secret as they get it.
 */
function generatedSecret(deps: CoreDeps): string {
  return `whsec_${Buffer.from(deps.ids.secret(24), "base64url").toString("base64")}`;
}

export interface CreatedSubscription {
  subscription: WebhookSubscription;
  /** The signing secret, returned once: the caller's or a generated one. */
  secret: string;
}

export async function createSubscription(
  deps: CoreDeps,
  orgId: number,
  input: SubscriptionInput,
): Promise<CreatedSubscription> {
  const missing = (["webhook_url", "version", "events"] as const).filter((k) => input[k] === undefined);
  if (missing.length > 0) {
    throw new DomainError("validation_failed", `missing required field(s): ${missing.join(", ")}`, {
      field: missing[0],
    });
  }
  // Everything is checked before the transaction opens.
  const fields = {
    orgId,
    webhookUrl: validUrl(input.webhook_url!),
    version: validVersion(input.version!),
    events: validEvents(input.events!),
    active: input.active ?? true,
    secret: input.secret !== undefined ? validSecret(input.secret) : generatedSecret(deps),
  };
  await deps.checkWebhookUrl(fields.webhookUrl, "webhook_url");
  const subscription = await deps.store.transaction((tx) => tx.webhookSubscriptions.create(fields, deps.clock.now()));
  return { subscription, secret: fields.secret };
}

/** Each API version lists and manages its own subscriptions: their event names and payloads are its own. */
export async function listSubscriptions(deps: CoreDeps, orgId: number, apiVersion = V2): Promise<WebhookSubscription[]> {
  return (await deps.store.read.webhookSubscriptions.list(orgId)).filter((s) => s.version === apiVersion);
}

const subscriptionNotFound = () => notFound("webhook_subscription_not_found", "Webhook subscription not found");

async function findOwn(repos: Repositories, orgId: number, id: number | string, apiVersion: number) {
  const subscription =
    typeof id === "number"
      ? await repos.webhookSubscriptions.findById(orgId, id)
      : await repos.webhookSubscriptions.findByUuid(orgId, id);
  return subscription?.version === apiVersion ? subscription : undefined;
}

/** By integer id (V2) or UUID (V3). */
export async function getSubscription(
  deps: CoreDeps,
  orgId: number,
  id: number | string,
  apiVersion = V2,
): Promise<WebhookSubscription> {
  const subscription = await findOwn(deps.store.read, orgId, id, apiVersion);
  if (!subscription) throw subscriptionNotFound();
  return subscription;
}

/** Partial update: omitted fields, the secret included, keep their values. */
export async function updateSubscription(
  deps: CoreDeps,
  orgId: number,
  id: number,
  input: SubscriptionInput,
): Promise<WebhookSubscription> {
  const changes = {
    ...(input.webhook_url !== undefined ? { webhookUrl: validUrl(input.webhook_url) } : {}),
    ...(input.version !== undefined ? { version: validVersion(input.version) } : {}),
    ...(input.events !== undefined ? { events: validEvents(input.events) } : {}),
    ...(input.active !== undefined ? { active: input.active } : {}),
    ...(input.secret !== undefined ? { secret: validSecret(input.secret) } : {}),
  };
  if (changes.webhookUrl !== undefined) await deps.checkWebhookUrl(changes.webhookUrl, "webhook_url");
  return deps.store.transaction(async (tx) => {
    const existing = await findOwn(tx, orgId, id, V2);
    if (!existing) throw subscriptionNotFound();
    return tx.webhookSubscriptions.update(orgId, id, changes, deps.clock.now());
  });
}

/** By integer id (V2) or UUID (V3). */
export async function deleteSubscription(deps: CoreDeps, orgId: number, id: number | string, apiVersion = V2): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const existing = await findOwn(tx, orgId, id, apiVersion);
    if (!existing) throw subscriptionNotFound();
    await tx.webhookSubscriptions.delete(orgId, existing.id);
  });
}

/**
 * Subscriptions whose face names its own event catalogue and generates the secret (V3):
 * a target URL unique in the org, the events to get, optionally the lines to get them for.
 */
export interface TargetSubscriptionRules {
  apiVersion: number;
  /** Every event type the face delivers. */
  eventTypes: readonly string[];
  /** Checks the URL beyond being http(s) (e.g. a payload version in its query); throws validation_failed. */
  checkUrl?: ((url: string) => void) | undefined;
}

export interface TargetSubscriptionInput {
  targetUrl?: string | undefined;
  subscribedEvents?: string[] | undefined;
  /** null or [] clears the filter. */
  phoneNumbers?: string[] | null | undefined;
  isActive?: boolean | undefined;
}

function invalid(field: string, reason: string): DomainError {
  return new DomainError("validation_failed", `${field}${reason}`, { field, reason });
}

function validTargetUrl(rules: TargetSubscriptionRules, url: string): string {
  const trimmed = url.trim();
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw invalid("targetUrl", ` "${url}" is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw invalid("targetUrl", " must be an http or https URL");
  rules.checkUrl?.(trimmed);
  return trimmed;
}

function validSubscribedEvents(rules: TargetSubscriptionRules, events: string[]): string[] {
  if (events.length === 0) throw invalid("subscribedEvents", " must list at least one event type");
  const unknown = events.filter((e) => !rules.eventTypes.includes(e));
  if (unknown.length > 0) {
    throw invalid("subscribedEvents", `: unknown event type(s) ${unknown.join(", ")}; valid: ${rules.eventTypes.join(", ")}`);
  }
  return [...new Set(events)];
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** E.164 lines, strictly (no +1 guessing); null for no filter. */
function validLineFilter(numbers: string[] | null): string[] | null {
  if (numbers === null || numbers.length === 0) return null;
  return [
    ...new Set(
      numbers.map((number, i) => {
        if (!E164.test(number)) {
          throw new DomainError("invalid_phone_number", `phoneNumbers[${i}]: "${number}" is not an E.164 phone number`, {
            field: `phoneNumbers[${i}]`,
            reason: `: "${number}" is not an E.164 phone number`,
          });
        }
        return number;
      }),
    ),
  ];
}

async function requireUniqueUrl(tx: Repositories, orgId: number, url: string, except?: number): Promise<void> {
  const taken = (await tx.webhookSubscriptions.list(orgId)).some((s) => s.webhookUrl === url && s.id !== except);
  if (taken) {
    throw new DomainError("conflict", `A webhook subscription with target_url ${url} already exists; each URL can be used once`, {
      field: "targetUrl",
    });
  }
}

export async function createTargetSubscription(
  deps: CoreDeps,
  orgId: number,
  rules: TargetSubscriptionRules,
  input: TargetSubscriptionInput,
): Promise<CreatedSubscription> {
  const missing = (["targetUrl", "subscribedEvents"] as const).filter((k) => input[k] === undefined);
  if (missing.length > 0) {
    throw new DomainError("missing_parameter", `missing required field(s): ${missing.join(", ")}`, {
      field: missing[0],
      reason: " is required",
    });
  }
  const fields = {
    orgId,
    webhookUrl: validTargetUrl(rules, input.targetUrl!),
    version: rules.apiVersion,
    events: validSubscribedEvents(rules, input.subscribedEvents!),
    phoneNumbers: validLineFilter(input.phoneNumbers ?? null),
    active: input.isActive ?? true,
    secret: generatedSecret(deps),
  };
  await deps.checkWebhookUrl(fields.webhookUrl, "targetUrl");
  const subscription = await deps.store.transaction(async (tx) => {
    await requireUniqueUrl(tx, orgId, fields.webhookUrl);
    return tx.webhookSubscriptions.create(fields, deps.clock.now());
  });
  return { subscription, secret: fields.secret };
}

/** Partial update by UUID; the secret never changes here. */
export async function updateTargetSubscription(
  deps: CoreDeps,
  orgId: number,
  rules: TargetSubscriptionRules,
  uuid: string,
  input: TargetSubscriptionInput,
): Promise<WebhookSubscription> {
  const changes = {
    ...(input.targetUrl !== undefined ? { webhookUrl: validTargetUrl(rules, input.targetUrl) } : {}),
    ...(input.subscribedEvents !== undefined ? { events: validSubscribedEvents(rules, input.subscribedEvents) } : {}),
    ...(input.phoneNumbers !== undefined ? { phoneNumbers: validLineFilter(input.phoneNumbers) } : {}),
    ...(input.isActive !== undefined ? { active: input.isActive } : {}),
  };
  if (changes.webhookUrl !== undefined) await deps.checkWebhookUrl(changes.webhookUrl, "targetUrl");
  return deps.store.transaction(async (tx) => {
    const existing = await findOwn(tx, orgId, uuid, rules.apiVersion);
    if (!existing) throw subscriptionNotFound();
    if (changes.webhookUrl !== undefined) await requireUniqueUrl(tx, orgId, changes.webhookUrl, existing.id);
    return tx.webhookSubscriptions.update(orgId, existing.id, changes, deps.clock.now());
  });
}
