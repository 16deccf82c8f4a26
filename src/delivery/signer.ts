import { createHmac, createSecretKey, type KeyObject } from "node:crypto";

/**
 * Webhook signatures. Every delivery carries two independent schemes over the same body:
 *
 * - V2 subscriptions (Linq's V2 webhook signatures): `X-Webhook-Signature: sha256=<hex HMAC-SHA256(key, body)>`
 *   where the key is the subscription secret exactly as given, as UTF-8 (a `whsec_` prefix included).
 * - V3 subscriptions (Linq's legacy V3 headers): `X-Webhook-Signature: <hex HMAC-SHA256(key, "{timestamp}.{body}")>`,
 *   no prefix, the same key; `X-Webhook-Subscription-ID` is the subscription's UUID.
 * - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
 *   The key follows the `standardwebhooks` libraries: a secret `whsec_<base64>` means the
 *   decoded bytes. Any other secret (a user's `my-shared-secret`) is used as its UTF-8 bytes;
 *   receivers then verify with `new Webhook(secret, { format: "raw" })` (ASCII secrets).
 *
 * Generated secrets are `whsec_` + standard base64 of 24 random bytes, so the libraries'
 * default constructor (`new Webhook(secret)`) verifies them as they are.
 */

const STANDARD_PREFIX = "whsec_";
/** What the standardwebhooks libraries decode: standard alphabet, padding only at the end. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decoded keys kept at most; past it the cache starts over. */
const MAX_CACHED_KEYS = 1000;
/** A secret's two HMAC keys, made once: the secret as UTF-8, and its Standard Webhooks key. */
interface SigningKeys {
  utf8: KeyObject;
  standard: KeyObject;
}

/**
 * Secret → its keys. Decoding the secret again for every delivery, and handing HMAC a string
 * (converted to bytes and imported at every call), showed in profiles.
 */
const keysBySecret = new Map<string, SigningKeys>();

function signingKeys(secret: string): SigningKeys {
  let keys = keysBySecret.get(secret);
  if (keys === undefined) {
    keys = { utf8: createSecretKey(Buffer.from(secret, "utf8")), standard: createSecretKey(standardWebhooksKey(secret)) };
    if (keysBySecret.size >= MAX_CACHED_KEYS) keysBySecret.clear();
    keysBySecret.set(secret, keys);
  }
  return keys;
}

/** The HMAC key of the Standard Webhooks signature for a subscription secret. */
export function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith(STANDARD_PREFIX)) {
    const encoded = secret.slice(STANDARD_PREFIX.length);
    if (encoded.length >= 4 && BASE64.test(encoded)) return Buffer.from(encoded, "base64");
  }
  return Buffer.from(secret, "utf8");
}

/** `sha256=<hex>` over the body bytes, keyed by the secret as UTF-8. */
export function signV2(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", signingKeys(secret).utf8).update(body, "utf8").digest("hex")}`;
}

/** Bare hex over `{timestamp}.{body}`, keyed by the secret as UTF-8 (the whole `whsec_…` string). */
export function signV3Legacy(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", signingKeys(secret).utf8).update(`${timestamp}.${body}`, "utf8").digest("hex");
}

/** `v1,<base64>` over `{id}.{timestamp}.{body}`; `timestamp` in whole seconds since the epoch. */
export function signStandardWebhooks(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", signingKeys(secret).standard).update(`${id}.${timestamp}.${body}`, "utf8");
  return `v1,${mac.digest("base64")}`;
}

export interface DeliveryRequestInput {
  eventId: string;
  eventType: string;
  subscriptionId: number;
  /** The subscription's UUID: what V3 receivers know it by. */
  subscriptionUuid?: string | undefined;
  /** The API version of the subscription's face: 3 signs the V3 way; anything else the V2 way. */
  version?: number | undefined;
  secret: string | null;
  body: string;
  /** Time of this attempt; the timestamp headers carry it in whole seconds. */
  at: Date;
}

export const USER_AGENT = "openlinq-webhooks/1";

/**
 * Headers of one attempt. Only the timestamps (and the Standard Webhooks signature that
 * covers them) change between attempts; the body and event id never do. Without a secret
 * there is nothing to sign with, so both signature headers are left out.
 */
export function deliveryHeaders(input: DeliveryRequestInput): Record<string, string> {
  const timestamp = Math.floor(input.at.getTime() / 1000);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "x-webhook-event": input.eventType,
    "x-webhook-subscription-id": input.version === 3 ? (input.subscriptionUuid ?? "") : String(input.subscriptionId),
    "x-webhook-timestamp": String(timestamp),
    "webhook-id": input.eventId,
    "webhook-timestamp": String(timestamp),
  };
  if (input.secret !== null) {
    headers["x-webhook-signature"] =
      input.version === 3 ? signV3Legacy(input.secret, timestamp, input.body) : signV2(input.secret, input.body);
    headers["webhook-signature"] = signStandardWebhooks(input.secret, input.eventId, timestamp, input.body);
  }
  return headers;
}
