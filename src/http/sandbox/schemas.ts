import { serviceSchema, reactionTypeSchema } from "../v2/schemas.ts";

/**
 * Wire schemas of the sandbox endpoints (/openlinq/v1). Requests are checked loosely here
 * (types) and fully in core, which names the bad field; responses list every field sent.
 */
const dateTime = { type: "string", format: "date-time" } as const;
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, "null"], ...extra });

const scriptedReplySchema = {
  type: "object",
  properties: {
    text: { type: "string" },
    delay_ms: { type: "integer" },
    attachment_urls: { type: "array", items: { type: "string" } },
  },
} as const;

export const autoReplySchema = {
  type: "object",
  description: '{"type":"none"} | {"type":"echo","delay_ms"} | {"type":"script","replies":[{"text","delay_ms","attachment_urls"}],"loop"}',
  properties: {
    type: { type: "string", enum: ["none", "echo", "script"] },
    delay_ms: { type: "integer" },
    replies: { type: "array", items: scriptedReplySchema },
    loop: { type: "boolean" },
  },
} as const;

export const autoReactionSchema = nullable("object", {
  properties: { type: reactionTypeSchema, delay_ms: { type: "integer" } },
});

const chatSignal = (extra: Record<string, unknown>) => ({
  type: "array",
  items: { type: "object", properties: { chat_id: { type: "integer" }, ...extra } },
});

export const deviceStateSchema = {
  type: "object",
  description: "What the simulated device shows right now",
  properties: {
    sees_our_typing: chatSignal({ since: dateTime, expires_at: nullable("string", { format: "date-time" }) }),
    read_receipts: chatSignal({ read_at: dateTime }),
    contact_cards: chatSignal({ phone_number: { type: "string" }, name: { type: "string" }, shared_at: dateTime }),
    typing: chatSignal({ since: dateTime }),
  },
} as const;

export const profileSchema = {
  type: "object",
  properties: {
    handle: { type: "string" },
    service: serviceSchema,
    reachable: { type: "boolean" },
    latency_ms: { type: "integer" },
    jitter_ms: { type: "integer" },
    read_after_ms: nullable("integer"),
    auto_reply: autoReplySchema,
    auto_reaction: autoReactionSchema,
    script_position: { type: "integer" },
    stored: { type: "boolean" },
    magic: nullable("string"),
    updated_at: nullable("string", { format: "date-time" }),
    device: deviceStateSchema,
  },
} as const;

/** PUT body: every field optional; what is missing keeps its value. */
export const profileInputSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    service: serviceSchema,
    reachable: { type: "boolean" },
    latency_ms: { type: "integer", minimum: 0 },
    jitter_ms: { type: "integer", minimum: 0 },
    read_after_ms: { type: ["integer", "null"], minimum: 0, description: "null: never reads" },
    // Shapes vary (object, "echo", null); core checks them and names the bad field.
    auto_reply: { description: autoReplySchema.description },
    auto_reaction: { description: '{"type": love|like|dislike|laugh|emphasize|question, "delay_ms"} or null' },
  },
} as const;

export const eventRefsSchema = {
  type: "array",
  description: "Webhook events this call emitted, in order",
  items: { type: "object", properties: { event_id: { type: "string" }, event_type: { type: "string" } } },
} as const;

export const handleParam = {
  type: "object",
  required: ["handle"],
  properties: { handle: { type: "string", description: "Phone number (E.164, URL-encode the +) or email" } },
} as const;

export const callSchema = {
  type: "object",
  description: "The call, as call.completed's data",
  properties: {
    id: { type: "string" },
    to: { type: "string" },
    from: { type: "string" },
    status: { type: "string" },
    direction: { type: "string" },
    start_time: { type: "string" },
    end_time: { type: "string" },
    duration: { type: "integer" },
    call_type: { type: "string" },
    forwarded_from: nullable("string"),
    answered_by: nullable("string"),
    voicemail: { type: "boolean" },
    has_recording: { type: "boolean" },
    recording_data: nullable("object", {
      properties: {
        id: { type: "string" },
        url: nullable("string"),
        duration: { type: "integer" },
        transcribed: { type: "boolean" },
        transcript_available: { type: "boolean" },
        transcription: nullable("string"),
        summary: nullable("string"),
      },
    }),
  },
} as const;
