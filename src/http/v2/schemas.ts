import type { JSONSchema } from "json-schema-to-ts";

/**
 * JSON schemas of the V2 wire objects, used for validation, fast serialization and the
 * generated OpenAPI document. Response schemas list every field we send: fields missing
 * here would be dropped by the serializer.
 */
/** `type` or null; generic so the route types see the literal schema. */
export const nullable = <const Type extends string, const Extra extends object = {}>(type: Type, extra?: Extra) =>
  ({ type: [type, "null"], ...extra }) as { readonly type: readonly [Type, "null"] } & Extra;
const dateTime = { type: "string", format: "date-time" } as const;

export const serviceSchema = { type: "string", enum: ["iMessage", "SMS", "RCS"] } as const;
export const reactionTypeSchema = {
  type: "string",
  enum: ["love", "like", "dislike", "laugh", "emphasize", "question"],
} as const;

export const chatHandleSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    phone_number: { type: "string", description: "Phone number (E.164) or email address" },
    service: serviceSchema,
    joined_at: dateTime,
  },
} as const;

export const chatSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    display_name: { type: "string" },
    service: serviceSchema,
    group: { type: "boolean" },
    message_count: { type: "integer" },
    chat_handles: { type: "array", items: chatHandleSchema },
  },
} as const;

export const attachmentSchema = {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    url: { type: "string" },
    filename: { type: "string" },
    mime_type: { type: "string" },
    file_size: { type: "integer" },
  },
} as const;

export const reactionSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    chat_message_id: { type: "integer" },
    reaction: reactionTypeSchema,
    is_from_me: { type: "boolean" },
    from_phone: { type: "string" },
    sent_at: dateTime,
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const deliveryStatusSchema = {
  type: "string",
  enum: ["pending", "delivered", "service_unavailable", "rate_limit_exceeded", "paused", "failed"],
} as const;

export const chatMessageSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    text: { type: "string" },
    sent_at: dateTime,
    delivered_at: nullable("string", { format: "date-time" }),
    delivery_status: deliveryStatusSchema,
    edited_at: nullable("string", { format: "date-time" }),
    is_read: { type: "boolean" },
    sent_from: { type: "string" },
    chat_handle_id: { type: "integer" },
    attachments: { type: "array", items: attachmentSchema },
    reactions: { type: "array", items: reactionSchema },
  },
} as const;

export const pageMetaSchema = {
  type: "object",
  properties: {
    page: { type: "integer" },
    total_pages: { type: "integer" },
    total_count: { type: "integer" },
    per_page: { type: "integer" },
  },
} as const;

export const renderErrorSchema = {
  type: "object",
  description: "render_error envelope",
  properties: {
    errors: {
      type: "array",
      items: {
        type: "object",
        properties: {
          status: { type: "integer" },
          code: { type: "string" },
          title: { type: "string" },
          detail: { type: "string" },
        },
      },
    },
  },
} as const;

export const standardErrorSchema = {
  type: "object",
  description: "render_standard_error envelope",
  properties: {
    status: { type: "string" },
    error_code: { type: "string" },
    message: { type: "string" },
    errors: { type: "array", items: { type: "string" } },
  },
} as const;

export const phoneNumberSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    phone_number: { type: "string" },
    forwarding_number: nullable("string"),
    response_rate: { type: "integer" },
    user: nullable("object", {
      properties: { id: { type: "integer" }, name: { type: "string" }, email: { type: "string" } },
    }),
  },
} as const;

export const contactSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    first_name: { type: "string" },
    last_name: { type: "string" },
    full_name: { type: "string" },
    email: { type: "string" },
    phone_number: { type: "string" },
    company: { type: "string" },
    title: { type: "string" },
    location: { type: "string" },
    image_url: nullable("string"),
    created_at: dateTime,
    updated_at: dateTime,
    contact_owner: nullable("object", {
      properties: {
        id: { type: "integer" },
        email: { type: "string" },
        first_name: { type: "string" },
        last_name: { type: "string" },
        name: { type: "string" },
      },
    }),
  },
} as const;

export const webhookSubscriptionSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    webhook_url: { type: "string" },
    version: { type: "integer" },
    events: { type: "array", items: { type: "string" } },
    active: { type: "boolean" },
    secret_configured: { type: "boolean" },
    last_delivered_at: nullable("string", { format: "date-time" }),
    delivery_attempts: { type: "integer" },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

/** Page/per_page query params shared by paginated lists (per_page is clamped to 100). */
export const pageQueryProperties = {
  page: { type: "integer", minimum: 1, default: 1 },
  per_page: { type: "integer", minimum: 1, default: 25 },
} as const;

export const MAX_PER_PAGE = 100;

/** Pagination style B (Linq's V2 pagination): `{ <items>: [...], pagination: {...} }`. */
export const paginationSchema = {
  type: "object",
  properties: {
    current_page: { type: "integer" },
    per_page: { type: "integer" },
    total_pages: { type: "integer" },
    total_count: { type: "integer" },
  },
} as const;

/** The params schema of a route with one integer id in its path; `name` stays a literal so the param is typed. */
export function idParam<const Name extends string>(name: Name) {
  const properties = { [name]: { type: "integer", minimum: 1 } } as {
    readonly [K in Name]: { readonly type: "integer"; readonly minimum: 1 };
  };
  return { type: "object", required: [name], properties } as const;
}

/** Responses every authenticated route may give, in the route's own error envelope. */
export function errorResponses(shape: "render" | "standard", statuses: number[]) {
  const schema = shape === "render" ? renderErrorSchema : standardErrorSchema;
  return Object.fromEntries([401, 429, ...statuses].map((status) => [status, schema]));
}

/**
 * The 204 response. Typed as any schema on purpose: its reply type stays open, so handlers
 * answer `reply.code(204).send()` with no body (`send(null)` would add a JSON content type).
 */
export const noBody: JSONSchema = { type: "null", description: "No body" };
/** The same for openlinq's own endpoints, whose 204s carry no description. */
export const emptyBody: JSONSchema = { type: "null" };
