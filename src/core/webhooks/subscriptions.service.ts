import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType, type WebhookSubscription } from "../model.ts";

export interface SubscriptionInput {
  webhook_url?: string | undefined;
  version?: number | undefined;
  events?: string[] | undefined;
  active?: boolean | undefined;
  secret?: string | undefined;
}

export const SUPPORTED_VERSIONS = [2];

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

export async function listSubscriptions(deps: CoreDeps, orgId: number): Promise<WebhookSubscription[]> {
  return deps.store.read.webhookSubscriptions.list(orgId);
}

export async function getSubscription(deps: CoreDeps, orgId: number, id: number): Promise<WebhookSubscription> {
  const subscription = await deps.store.read.webhookSubscriptions.findById(orgId, id);
  if (!subscription) throw notFound("webhook_subscription_not_found", "Webhook subscription not found");
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
    const existing = await tx.webhookSubscriptions.findById(orgId, id);
    if (!existing) throw notFound("webhook_subscription_not_found", "Webhook subscription not found");
    return tx.webhookSubscriptions.update(orgId, id, changes, deps.clock.now());
  });
}

export async function deleteSubscription(deps: CoreDeps, orgId: number, id: number): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const existing = await tx.webhookSubscriptions.findById(orgId, id);
    if (!existing) throw notFound("webhook_subscription_not_found", "Webhook subscription not found");
    await tx.webhookSubscriptions.delete(orgId, id);
  });
}
