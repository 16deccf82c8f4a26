import { createHmac } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { standardWebhooksKey } from "./signer.ts";

/**
 * The signature doctor: given what a receiver computed (the body it hashed, the signature it
 * produced or compared, the secret, timestamp and headers it used), says exactly how that
 * differs from what openlinq signed.
 *
 * It works by reproduction: it re-signs with every plausible mistake — key variants (as
 * given, without `whsec_`, base64-decoded), signed content (body only, "{ts}.{body}",
 * "{id}.{ts}.{body}"), the receiver's body or ours, seconds or milliseconds, hex or base64 —
 * and when one combination yields the receiver's signature, each way it departs from the
 * correct combination is a finding. Direct comparisons (body bytes, secret, timestamp,
 * prefixes) add findings even when no signature was given.
 *
 * Schemes (src/delivery/signer.ts):
 * - v2:       `X-Webhook-Signature: sha256=<hex HMAC(secret as UTF-8, body)>`
 * - standard: `webhook-signature: v1,<base64 HMAC(key, "{id}.{timestamp}.{body}")>`,
 *             key = base64-decoded part after `whsec_` (other secrets: their UTF-8 bytes)
 * - legacy:   `X-Webhook-Signature` hex HMAC(secret as UTF-8, "{timestamp}.{body}") (V3's X-Webhook-* headers)
 */

export type SignatureScheme = "v2" | "standard" | "legacy";

/** What openlinq sent in one attempt. */
export interface SignedDelivery {
  eventId: string;
  body: string;
  secret: string;
  /** The attempt's request headers (lower-case names). */
  headers: Record<string, string>;
}

/** What the receiver says it did; every field is optional. */
export interface ReceiverComputation {
  body?: string | undefined;
  signature?: string | undefined;
  comparedWith?: string | undefined;
  secret?: string | undefined;
  timestamp?: string | undefined;
  headers?: Record<string, string> | undefined;
  scheme?: SignatureScheme | undefined;
}

export interface Finding {
  /** Stable machine code, e.g. `body_reserialised`, `secret_prefix_stripped`. */
  code: string;
  /** `ok`: this part matches; `problem`: this part differs; `hint`: worth checking. */
  severity: "ok" | "problem" | "hint";
  message: string;
}

export interface Diagnosis {
  /** `match`: the receiver's signature is right; `mismatch`: it differs; `unknown`: no signature given. */
  verdict: "match" | "mismatch" | "unknown";
  /** The scheme the receiver's signature was reproduced under (or was meant for). */
  scheme: SignatureScheme | null;
  /** Whether the receiver's signature could be reproduced at all (tells which mistakes it made). */
  reproduced: boolean;
  findings: Finding[];
  expected: Record<SignatureScheme, string>;
}

const SCHEME_NAMES: Record<SignatureScheme, string> = {
  v2: "V2 (X-Webhook-Signature, hex over the body)",
  standard: "Standard Webhooks (webhook-signature, base64 over \"{id}.{timestamp}.{body}\")",
  legacy: "X-Webhook-* (hex over \"{timestamp}.{body}\")",
};

type KeyVariant = "secret" | "secret_without_prefix" | "decoded" | "receiver_secret" | "receiver_secret_decoded";
type ContentVariant = "body" | "ts_body" | "id_ts_body";
type Encoding = "hex" | "base64" | "base64url";

interface Combination {
  key: KeyVariant;
  content: ContentVariant;
  body: "ours" | "theirs";
  timestamp: "header" | "millis" | "theirs";
  encoding: Encoding;
}

const CORRECT: Record<SignatureScheme, Omit<Combination, "encoding" | "key"> & { key: KeyVariant; encoding: Encoding }> = {
  v2: { key: "secret", content: "body", body: "ours", timestamp: "header", encoding: "hex" },
  standard: { key: "decoded", content: "id_ts_body", body: "ours", timestamp: "header", encoding: "base64" },
  legacy: { key: "secret", content: "ts_body", body: "ours", timestamp: "header", encoding: "hex" },
};

const SIGNATURE_PREFIXES = ["sha256=", "v1,", "v1="];

function stripPrefix(signature: string): { value: string; prefix: string | null } {
  const trimmed = signature.trim();
  // Standard Webhooks headers may carry several space-separated signatures; the doctor checks the first.
  const first = trimmed.split(" ")[0]!;
  for (const prefix of SIGNATURE_PREFIXES) {
    if (first.startsWith(prefix)) return { value: first.slice(prefix.length), prefix };
  }
  return { value: first, prefix: null };
}

function withoutWhsec(secret: string): string {
  return secret.startsWith("whsec_") ? secret.slice(6) : secret;
}

function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || text.length < 4) return undefined;
  return Buffer.from(text, "base64");
}

function encode(digest: Buffer, encoding: Encoding): string {
  return encoding === "hex" ? digest.toString("hex") : digest.toString(encoding);
}

/** Signatures openlinq put in the attempt's headers, recomputed from the secret. */
export function expectedSignatures(delivery: SignedDelivery): Record<SignatureScheme, string> {
  const ts = delivery.headers["webhook-timestamp"] ?? delivery.headers["x-webhook-timestamp"] ?? "";
  const hmac = (key: Buffer | string, content: string) => createHmac("sha256", key).update(content, "utf8").digest();
  return {
    v2: `sha256=${hmac(delivery.secret, delivery.body).toString("hex")}`,
    standard: `v1,${hmac(standardWebhooksKey(delivery.secret), `${delivery.eventId}.${ts}.${delivery.body}`).toString("base64")}`,
    legacy: hmac(delivery.secret, `${ts}.${delivery.body}`).toString("hex"),
  };
}

/** How the receiver's body bytes differ from ours, most specific cause first. */
export function compareBodies(ours: string, theirs: string): Finding {
  if (ours === theirs) return { code: "body_identical", severity: "ok", message: "The body is byte for byte the one openlinq sent." };
  if (ours.trim() === theirs.trim()) {
    return { code: "body_whitespace_added", severity: "problem", message: "The body has leading or trailing whitespace (a newline?) that openlinq did not send." };
  }
  let parsedOurs: unknown;
  let parsedTheirs: unknown;
  try {
    parsedOurs = JSON.parse(ours);
    parsedTheirs = JSON.parse(theirs);
  } catch {
    parsedTheirs = undefined;
  }
  if (parsedTheirs !== undefined && isDeepStrictEqual(parsedOurs, parsedTheirs)) {
    const compactTheirs = JSON.stringify(parsedTheirs);
    const compactOurs = JSON.stringify(parsedOurs);
    if (compactTheirs !== compactOurs) {
      return {
        code: "body_keys_reordered",
        severity: "problem",
        message:
          "The body was parsed and re-serialised with its keys in another order. Sign the raw bytes as received " +
          "(e.g. express.raw({ type: 'application/json' }), request.get_data() in Flask), never JSON.stringify(req.body).",
      };
    }
    const escapes = (text: string) => (text.match(/\\u[0-9a-fA-F]{4}/g) ?? []).length;
    if (escapes(theirs) !== escapes(ours)) {
      return {
        code: "body_unicode_escaped",
        severity: "problem",
        message:
          escapes(theirs) > escapes(ours)
            ? "The body was re-serialised with non-ASCII characters as \\u escapes (Python json.dumps' default ensure_ascii=True). Sign the raw bytes as received."
            : "The body was re-serialised with \\u escapes turned into raw characters. Sign the raw bytes as received.",
      };
    }
    return {
      code: "body_whitespace_changed",
      severity: "problem",
      message:
        theirs.includes("\n")
          ? "The body was re-serialised with indentation (pretty-printed). Sign the raw bytes as received."
          : "The body was re-serialised with different whitespace (e.g. Python json.dumps adds a space after , and :). Sign the raw bytes as received.",
    };
  }
  if (Buffer.from(ours, "utf8").toString("latin1") === theirs || Buffer.from(theirs, "latin1").toString("utf8") === ours) {
    return {
      code: "body_reencoded",
      severity: "problem",
      message: "The body was decoded as Latin-1 (or re-encoded) instead of UTF-8: its non-ASCII characters changed bytes. Hash the raw bytes.",
    };
  }
  if (parsedTheirs === undefined) {
    return { code: "body_not_json", severity: "problem", message: "The body hashed is not the JSON openlinq sent (truncated, form-decoded, or another request's)." };
  }
  return { code: "body_different", severity: "problem", message: "The body hashed is a different payload: another event or another attempt's body." };
}

function compareSecrets(ours: string, theirs: string, scheme: SignatureScheme | null): Finding {
  if (ours === theirs) return { code: "secret_identical", severity: "ok", message: "The secret is the subscription's." };
  if (ours.startsWith("whsec_") && ours.slice(6) === theirs) {
    return scheme === "standard"
      ? { code: "secret_prefix_stripped", severity: "hint", message: "The secret was used without its whsec_ prefix: fine for Standard Webhooks libraries (they strip it), but decode the rest from base64 to get the key." }
      : { code: "secret_prefix_stripped", severity: "problem", message: "The secret was used without its whsec_ prefix. V2 signatures key HMAC with the whole secret, whsec_ included, as UTF-8." };
  }
  if (theirs.startsWith("whsec_") && theirs.slice(6) === ours) {
    return { code: "secret_prefix_added", severity: "problem", message: "The secret was used with a whsec_ prefix the subscription's secret does not have." };
  }
  if (ours.trim() === theirs.trim()) {
    return { code: "secret_whitespace", severity: "problem", message: "The secret has surrounding whitespace (a newline from a file or env var?)." };
  }
  return { code: "secret_different", severity: "problem", message: "The secret is not this subscription's (another subscription's, or from before it was changed)." };
}

function compareTimestamps(header: string, theirs: string): Finding {
  if (header === theirs) return { code: "timestamp_identical", severity: "ok", message: "The timestamp is the attempt's." };
  const ours = Number(header);
  const given = Number(theirs);
  if (Number.isFinite(given) && Math.floor(given / 1000) === ours) {
    return { code: "timestamp_millis", severity: "problem", message: `The timestamp is in milliseconds (${theirs}); the header carries whole seconds (${header}).` };
  }
  if (Number.isFinite(given)) {
    return {
      code: "timestamp_stale",
      severity: "problem",
      message: `The timestamp (${theirs}) is not this attempt's (${header}): every retry carries a new timestamp and signature; read both from the request being verified.`,
    };
  }
  return { code: "timestamp_malformed", severity: "problem", message: `The timestamp "${theirs}" is not a number of seconds.` };
}

const KEY_WORDS: Record<KeyVariant, string> = {
  secret: "the secret as given (whsec_ included) as UTF-8",
  secret_without_prefix: "the secret without whsec_ as UTF-8",
  decoded: "the base64-decoded part after whsec_",
  receiver_secret: "the secret you supplied, as UTF-8",
  receiver_secret_decoded: "the secret you supplied, base64-decoded",
};
const CONTENT_WORDS: Record<ContentVariant, string> = {
  body: "the body alone",
  ts_body: "\"{timestamp}.{body}\"",
  id_ts_body: "\"{id}.{timestamp}.{body}\"",
};

function differences(found: Combination, scheme: SignatureScheme, secret: string): Finding[] {
  const correct = CORRECT[scheme];
  // For a secret without whsec_, the Standard Webhooks key is its UTF-8 bytes.
  const correctKey: KeyVariant = scheme === "standard" && !secret.startsWith("whsec_") ? "secret" : correct.key;
  const findings: Finding[] = [];
  if (found.key !== correctKey && !(found.key === "receiver_secret" && correctKey === "secret")) {
    findings.push({
      code: `key_${found.key}`,
      severity: "problem",
      message: `You keyed HMAC with ${KEY_WORDS[found.key]}; ${SCHEME_NAMES[scheme]} keys it with ${KEY_WORDS[correctKey]}.`,
    });
  }
  if (found.content !== correct.content) {
    findings.push({
      code: `content_${found.content}`,
      severity: "problem",
      message: `You signed ${CONTENT_WORDS[found.content]}; ${SCHEME_NAMES[scheme]} signs ${CONTENT_WORDS[correct.content]}.`,
    });
  }
  if (found.timestamp === "millis" && found.content !== "body") {
    findings.push({ code: "timestamp_millis", severity: "problem", message: "You used the timestamp in milliseconds; the header carries whole seconds." });
  }
  if (found.encoding !== correct.encoding) {
    findings.push({
      code: `encoding_${found.encoding}`,
      severity: "problem",
      message: `You encoded the digest as ${found.encoding}; ${SCHEME_NAMES[scheme]} uses ${correct.encoding}.`,
    });
  }
  return findings;
}

/** Which scheme a combination most resembles: the content says most, the encoding next. */
function schemeOf(combination: Combination): SignatureScheme {
  if (combination.content === "id_ts_body") return "standard";
  if (combination.content === "ts_body") return combination.encoding === "hex" ? "legacy" : "standard";
  return combination.encoding === "hex" ? "v2" : "standard";
}

export function diagnoseSignature(
  delivery: SignedDelivery,
  receiver: ReceiverComputation,
  options: { wallClock: Date },
): Diagnosis {
  const expected = expectedSignatures(delivery);
  const findings: Finding[] = [];
  const headerTs = delivery.headers["webhook-timestamp"] ?? delivery.headers["x-webhook-timestamp"] ?? "";
  let scheme: SignatureScheme | null = receiver.scheme ?? null;
  let verdict: Diagnosis["verdict"] = "unknown";
  let reproduced = false;

  if (receiver.signature !== undefined) {
    const given = stripPrefix(receiver.signature);
    // Correct under some scheme?
    const exact = (Object.keys(expected) as SignatureScheme[]).find((s) => stripPrefix(expected[s]).value === given.value);
    if (exact) {
      verdict = "match";
      reproduced = true;
      scheme = exact;
      findings.push({ code: "signature_correct", severity: "ok", message: `Your signature is correct for ${SCHEME_NAMES[exact]}.` });
    } else {
      verdict = "mismatch";
      const found = reproduce(delivery, receiver, given.value, headerTs);
      if (found) {
        reproduced = true;
        scheme = receiver.scheme ?? schemeOf(found);
        if (found.body === "theirs" && receiver.body !== undefined) findings.push(compareBodies(delivery.body, receiver.body));
        if (found.timestamp === "theirs" && receiver.timestamp !== undefined) findings.push(compareTimestamps(headerTs, receiver.timestamp));
        findings.push(...differences(found, scheme, delivery.secret));
        if (found.key.startsWith("receiver_") && receiver.secret !== undefined) findings.push(compareSecrets(delivery.secret, receiver.secret, scheme));
      } else {
        findings.push({
          code: "signature_not_reproduced",
          severity: "problem",
          message:
            "No variant of openlinq's secret, body, timestamp and encoding gives your signature: most likely the secret differs " +
            "(another subscription's, or an old one), or the body is not this event's.",
        });
      }
    }
  }

  // Direct comparisons, for what reproduction did not already explain.
  const has = (code: string) => findings.some((f) => f.code.split("_")[0] === code.split("_")[0]);
  if (receiver.body !== undefined && !has("body_")) findings.push(compareBodies(delivery.body, receiver.body));
  if (receiver.secret !== undefined && !has("secret_")) findings.push(compareSecrets(delivery.secret, receiver.secret, scheme));
  if (receiver.timestamp !== undefined && !has("timestamp_")) findings.push(compareTimestamps(headerTs, receiver.timestamp));

  if (receiver.comparedWith !== undefined && receiver.signature !== undefined) {
    const compared = receiver.comparedWith.trim();
    const mine = receiver.signature.trim();
    const comparedStripped = stripPrefix(compared);
    if (comparedStripped.prefix !== null && stripPrefix(mine).prefix === null) {
      findings.push({
        code: "prefix_not_stripped",
        severity: "problem",
        message: `You compared your digest with the header value including its "${comparedStripped.prefix}" prefix; strip it first (or add it to yours).`,
      });
    }
    const header = (Object.keys(expected) as SignatureScheme[]).find((s) => expected[s] === compared || stripPrefix(expected[s]).value === comparedStripped.value);
    if (header && scheme && header !== scheme) {
      findings.push({
        code: "wrong_header",
        severity: "problem",
        message: `You compared against the ${SCHEME_NAMES[header]} header while computing ${SCHEME_NAMES[scheme]}.`,
      });
    }
    if (!header) {
      findings.push({ code: "compared_unknown", severity: "problem", message: "The value you compared against is not a signature openlinq sent in this attempt." });
    }
  }

  const skewMs = Math.abs(options.wallClock.getTime() - Number(headerTs) * 1000);
  if (Number.isFinite(skewMs) && skewMs > 5 * 60_000) {
    findings.push({
      code: "timestamp_outside_tolerance",
      severity: "hint",
      message:
        `The attempt's timestamp is ${Math.round(skewMs / 60_000)} minutes away from this machine's clock (virtual clock?). ` +
        "Standard Webhooks libraries reject timestamps more than 5 minutes off; widen the tolerance in tests.",
    });
  }
  return { verdict, scheme, reproduced, findings, expected };
}

/** Finds the combination of choices that turns openlinq's inputs into the receiver's signature. */
function reproduce(delivery: SignedDelivery, receiver: ReceiverComputation, signature: string, headerTs: string): Combination | undefined {
  const keys: [KeyVariant, Buffer | string][] = [
    ["secret", delivery.secret],
    ["secret_without_prefix", withoutWhsec(delivery.secret)],
  ];
  const decoded = decodeBase64(withoutWhsec(delivery.secret));
  if (decoded) keys.push(["decoded", decoded]);
  if (receiver.secret !== undefined && receiver.secret !== delivery.secret) {
    keys.push(["receiver_secret", receiver.secret]);
    const theirsDecoded = decodeBase64(withoutWhsec(receiver.secret));
    if (theirsDecoded) keys.push(["receiver_secret_decoded", theirsDecoded]);
  }
  const bodies: [Combination["body"], string][] = [["ours", delivery.body]];
  if (receiver.body !== undefined && receiver.body !== delivery.body) bodies.push(["theirs", receiver.body]);
  const stamps: [Combination["timestamp"], string][] = [
    ["header", headerTs],
    ["millis", `${headerTs}000`],
  ];
  if (receiver.timestamp !== undefined && receiver.timestamp !== headerTs) stamps.push(["theirs", receiver.timestamp]);

  for (const [key, keyValue] of keys) {
    for (const [body, bodyValue] of bodies) {
      const contents: [ContentVariant, Combination["timestamp"], string][] = [["body", "header", bodyValue]];
      for (const [stamp, ts] of stamps) {
        contents.push(["ts_body", stamp, `${ts}.${bodyValue}`], ["id_ts_body", stamp, `${delivery.eventId}.${ts}.${bodyValue}`]);
      }
      for (const [content, timestamp, text] of contents) {
        const digest = createHmac("sha256", keyValue).update(text, "utf8").digest();
        for (const encoding of ["hex", "base64", "base64url"] as const) {
          if (encode(digest, encoding) === signature || (encoding === "hex" && digest.toString("hex") === signature.toLowerCase())) {
            return { key, content, body, timestamp, encoding };
          }
        }
      }
    }
  }
  return undefined;
}

/**
 * Likely causes, in order, when a receiver refused a correctly signed delivery (400/401/403).
 * Ordered by what the response and the attempt suggest; the usual order otherwise.
 */
export function likelyRefusalCauses(attempt: {
  status: number;
  responseBody: string;
  requestTimestamp: number;
  wallClock: Date;
}): Finding[] {
  const causes: (Finding & { weight: number })[] = [
    {
      code: "body_reserialised",
      severity: "hint",
      weight: 50,
      message: "The receiver verifies a re-serialised body (JSON.stringify(req.body), json.dumps): sign the raw bytes as received.",
    },
    {
      code: "secret_mismatch",
      severity: "hint",
      weight: 40,
      message: "The receiver uses another secret, or handles whsec_ differently: V2 keys with the whole secret as UTF-8; Standard Webhooks with the base64-decoded part after whsec_.",
    },
    {
      code: "scheme_mismatch",
      severity: "hint",
      weight: 30,
      message: "The receiver checks one scheme with the other's rules: V2 is hex over the body; Standard Webhooks is base64 over \"{id}.{timestamp}.{body}\".",
    },
    {
      code: "prefix_not_stripped",
      severity: "hint",
      weight: 20,
      message: "The receiver compares with the header's \"sha256=\" or \"v1,\" prefix still on.",
    },
    {
      code: "timestamp_tolerance",
      severity: "hint",
      weight: 10,
      message: "The receiver rejects the timestamp (outside its tolerance, or read in milliseconds).",
    },
  ];
  const body = attempt.responseBody.toLowerCase();
  const skewMs = Math.abs(attempt.wallClock.getTime() - attempt.requestTimestamp * 1000);
  if (skewMs > 5 * 60_000 || /timestamp|too old|too new|expired|tolerance/.test(body)) causes.find((c) => c.code === "timestamp_tolerance")!.weight = 100;
  if (/secret|key/.test(body)) causes.find((c) => c.code === "secret_mismatch")!.weight = 60;
  if (/prefix|format|header/.test(body)) causes.find((c) => c.code === "prefix_not_stripped")!.weight = 55;
  return causes.sort((a, b) => b.weight - a.weight).map(({ weight: _weight, ...finding }) => finding);
}
