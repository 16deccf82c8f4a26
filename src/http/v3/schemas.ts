import type { JSONSchema } from "json-schema-to-ts";

/**
 * JSON schemas of the V3 wire objects: validation, fast serialization and the V3 OpenAPI
 * document. Response schemas list every field we send (the serializer drops the rest);
 * fields the official client types as `T | null` are always sent, null when unknown.
 */
const nullable = (schema: Record<string, unknown>) => ({ ...schema, type: [schema.type as string, "null"] });
const dateTime = { type: "string", format: "date-time" } as const;
const uuid = { type: "string", description: "UUID" } as const;

export const serviceSchema = { type: "string", enum: ["iMessage", "SMS", "RCS"] } as const;
export const reactionTypeSchema = {
  type: "string",
  enum: ["love", "like", "dislike", "laugh", "emphasize", "question", "custom", "sticker"],
} as const;
export const deliveryStatusSchema = {
  type: "string",
  enum: ["pending", "queued", "sent", "delivered", "received", "read", "failed"],
} as const;

export const chatHandleSchema = {
  type: "object",
  properties: {
    id: uuid,
    handle: { type: "string", description: "E.164 phone number or email address" },
    joined_at: dateTime,
    service: serviceSchema,
    is_me: { type: ["boolean", "null"] },
    left_at: { type: ["string", "null"], format: "date-time" },
    status: { type: ["string", "null"], enum: ["active", "left", "removed", null] },
  },
} as const;

const healthStatusSchema = {
  type: "object",
  properties: {
    status: { type: "string", enum: ["HEALTHY", "AT_RISK", "CRITICAL", "OPTED_OUT"] },
    doc_url: { type: "string" },
    updated_at: dateTime,
  },
} as const;

export const textDecorationSchema = {
  type: "object",
  required: ["range"],
  properties: {
    range: { type: "array", items: { type: "integer", minimum: 0 }, minItems: 2, maxItems: 2 },
    style: { type: "string", enum: ["bold", "italic", "strikethrough", "underline"] },
    animation: { type: "string", enum: ["big", "small", "shake", "nod", "explode", "ripple", "bloom", "jitter"] },
  },
} as const;

export const effectSchema = {
  type: "object",
  properties: {
    type: { type: "string", enum: ["screen", "bubble"] },
    name: { type: "string" },
  },
} as const;

export const replyToSchema = {
  type: "object",
  required: ["message_id"],
  properties: {
    message_id: { type: "string" },
    part_index: { type: "integer", minimum: 0 },
  },
} as const;

export const reactionSchema = {
  type: "object",
  properties: {
    handle: chatHandleSchema,
    is_me: { type: "boolean" },
    type: reactionTypeSchema,
    custom_emoji: { type: ["string", "null"] },
    sticker: { type: ["object", "null"], properties: {} },
  },
} as const;

/** The iMessage app behind a card. */
const appCardAppSchema = {
  type: "object",
  properties: {
    bundle_id: { type: "string", description: "Bundle identifier of the Messages extension; no \":\"" },
    name: { type: "string" },
    team_id: { type: "string", description: "10 upper-case letters or digits" },
    app_store_id: { type: "integer" },
  },
} as const;

/** A card's layout: at least one caption or the image; image title and subtitle need the image. */
export const appCardLayoutSchema = {
  type: "object",
  properties: {
    caption: { type: "string" },
    subcaption: { type: "string" },
    trailing_caption: { type: "string" },
    trailing_subcaption: { type: "string" },
    image_url: { type: "string" },
    image_title: { type: "string" },
    image_subtitle: { type: "string" },
  },
} as const;

/** One response part; which fields appear depends on `type` (text, media, link, imessage_app). */
export const partResponseSchema = {
  type: "object",
  properties: {
    type: { type: "string", enum: ["text", "media", "link", "imessage_app"] },
    value: { type: "string" },
    text_decorations: { type: ["array", "null"], items: textDecorationSchema },
    id: uuid,
    url: { type: "string" },
    filename: { type: "string" },
    mime_type: { type: "string" },
    size_bytes: { type: "integer" },
    app: appCardAppSchema,
    layout: appCardLayoutSchema,
    fallback_text: { type: ["string", "null"] },
    reactions: { type: ["array", "null"], items: reactionSchema },
  },
} as const;

/** What a send returns (SentMessage). */
export const sentMessageSchema = {
  type: "object",
  properties: {
    id: uuid,
    created_at: dateTime,
    delivery_status: deliveryStatusSchema,
    is_read: { type: "boolean" },
    parts: { type: "array", items: partResponseSchema },
    sent_at: { type: ["string", "null"], format: "date-time" },
    delivered_at: { type: ["string", "null"], format: "date-time" },
    effect: nullable(effectSchema),
    from_handle: nullable(chatHandleSchema),
    preferred_service: { type: ["string", "null"], enum: ["iMessage", "SMS", "RCS", null] },
    reply_to: nullable({ type: "object", properties: replyToSchema.properties }),
    service: { type: ["string", "null"], enum: ["iMessage", "SMS", "RCS", null] },
  },
} as const;

/** The read model of a message (GET message, lists, thread). */
export const messageSchema = {
  type: "object",
  properties: {
    ...sentMessageSchema.properties,
    chat_id: uuid,
    updated_at: dateTime,
    is_delivered: { type: "boolean" },
    is_from_me: { type: "boolean" },
    read_at: { type: ["string", "null"], format: "date-time" },
    from: { type: ["string", "null"] },
  },
} as const;

export const chatSchema = {
  type: "object",
  properties: {
    id: uuid,
    created_at: dateTime,
    updated_at: dateTime,
    display_name: { type: ["string", "null"] },
    handles: { type: "array", items: chatHandleSchema },
    health_status: healthStatusSchema,
    is_archived: { type: "boolean" },
    is_group: { type: "boolean" },
    group_chat_icon: { type: ["string", "null"] },
    service: { type: ["string", "null"], enum: ["iMessage", "SMS", "RCS", null] },
  },
} as const;

/** Request parts (MessageContent.parts); the rules between parts are checked by the route. */
export const partRequestSchema = {
  type: "object",
  required: ["type"],
  properties: {
    type: { type: "string", enum: ["text", "media", "link", "imessage_app"] },
    value: { type: "string" },
    text_decorations: { type: "array", items: textDecorationSchema },
    url: { type: "string", description: "media: the file's URL; imessage_app: what the app opens (https or data:)" },
    attachment_id: { type: "string" },
    app: appCardAppSchema,
    layout: appCardLayoutSchema,
    fallback_text: { type: "string" },
    interactive: { type: "boolean", description: "imessage_app: default true" },
  },
} as const;

export const messageContentSchema = {
  type: "object",
  required: ["parts"],
  properties: {
    parts: { type: "array", items: partRequestSchema },
    effect: effectSchema,
    idempotency_key: { type: "string" },
    preferred_service: serviceSchema,
    reply_to: replyToSchema,
  },
} as const;

/** The body of a 202 acknowledgement. */
export const ackSchema = {
  type: "object",
  properties: {
    message: { type: "string" },
    status: { type: "string" },
    trace_id: { type: "string" },
  },
} as const;

export const errorSchema = {
  type: "object",
  description: "V3 error envelope",
  properties: {
    success: { type: "boolean" },
    error: {
      type: "object",
      properties: {
        status: { type: "integer" },
        code: { type: "integer" },
        message: { type: "string" },
        doc_url: { type: "string" },
        retry_after: { type: "integer" },
      },
    },
    trace_id: { type: "string" },
  },
} as const;

/** Responses every V3 route may give besides its own: auth, rate limit, bad input. */
export function errorResponses(statuses: number[] = []) {
  return Object.fromEntries([400, 401, 429, ...statuses].map((status) => [status, errorSchema]));
}

export const cursorQueryProperties = {
  cursor: { type: "string" },
  limit: { type: "integer", minimum: 1, maximum: 100 },
} as const;

/** The params schema of a route with one id in its path; `name` stays a literal so the param is typed. */
export function idParams<const Name extends string>(name: Name) {
  const properties = { [name]: { type: "string" } } as { readonly [K in Name]: { readonly type: "string" } };
  return { type: "object", required: [name], properties } as const;
}

/**
 * The 204 response. Typed as any schema on purpose: its reply type stays open, so handlers
 * answer `reply.code(204).send()` with no body (`send(null)` would add a JSON content type).
 */
export const noContent: JSONSchema = { type: "null", description: "No content" };
