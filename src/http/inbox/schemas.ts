/**
 * Response schemas of the inbox endpoints. They double as the serializer's field list:
 * a field missing here is dropped from the answer.
 */
const nullable = (type: string) => ({ type: [type, "null"] }) as const;
const dateTime = { type: "string", format: "date-time" } as const;

export const participantSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    handle: { type: "string", description: "E.164 number or email" },
    display: { type: "string", description: "Pretty-printed handle" },
    service: { type: "string" },
    is_me: { type: "boolean", description: "Our own number" },
    joined_at: dateTime,
    left_at: nullable("string"),
  },
} as const;

export const inboxMessageSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    chat_id: { type: "integer" },
    text: { type: "string" },
    is_from_me: { type: "boolean" },
    sender: { type: "string" },
    sent_at: dateTime,
    delivered_at: nullable("string"),
    delivery_status: { type: "string" },
    is_read: { type: "boolean" },
    read_at: nullable("string"),
    edited_at: nullable("string"),
    attachments: {
      type: "array",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          url: { type: "string" },
          filename: { type: "string" },
          mime_type: { type: "string" },
          file_size: { type: "integer" },
        },
      },
    },
    reactions: {
      type: "array",
      items: {
        type: "object",
        properties: {
          id: { type: "integer" },
          reaction: { type: "string" },
          is_from_me: { type: "boolean" },
          from_phone: { type: "string" },
          sent_at: dateTime,
        },
      },
    },
  },
} as const;

export const chatHeaderProperties = {
  id: { type: "integer" },
  display_name: { type: "string" },
  service: { type: "string" },
  group: { type: "boolean" },
  message_count: { type: "integer" },
  phone_number: { type: "string", description: "Our number in this chat" },
  last_activity_at: dateTime,
  created_at: dateTime,
  participants: { type: "array", items: participantSchema, description: "Everyone who is or was in the chat, us included" },
} as const;

export const inboxChatSchema = {
  type: "object",
  properties: {
    ...chatHeaderProperties,
    unread_count: { type: "integer", description: "Inbound messages not marked read" },
    last_message: { anyOf: [inboxMessageSchema, { type: "null" }] },
  },
} as const;

export const sessionSchema = {
  type: "object",
  properties: {
    organization: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" } } },
    phone_numbers: {
      type: "array",
      items: {
        type: "object",
        properties: { id: { type: "integer" }, phone_number: { type: "string" }, display: { type: "string" } },
      },
    },
  },
} as const;

export const threadSchema = {
  type: "object",
  properties: {
    chat: { type: "object", properties: chatHeaderProperties },
    messages: { type: "array", items: inboxMessageSchema },
    has_older: { type: "boolean" },
    typing: {
      type: "array",
      description: "Typing indicators showing now (first page only)",
      items: { type: "object", properties: { handle: { type: "string" }, is_me: { type: "boolean" } } },
    },
  },
} as const;
