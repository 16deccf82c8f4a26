import { OUR_NUMBER } from "./app.ts";

/** Ids of one organization's resources, for building the URL of any operation. */
export interface ResourceIds {
  chatId: number;
  messageId: number;
  reactionId: number;
  contactId: number;
  phoneNumberId: number;
  subscriptionId: number;
}

export interface Operation {
  /** As listed in Linq's V2 endpoint reference (method and OpenAPI path). */
  name: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path(ids: ResourceIds): string;
  /** A valid body for the operation, when it takes one. */
  body?: unknown;
  errorShape: "render" | "standard";
  /** Whether the operation addresses one resource by id (isolation: another org's id is 404). */
  byId: boolean;
}

const V2 = "/api/partner/v2";

/** The 29 operations of Linq's V2 endpoint reference, in its order. */
export const V2_OPERATIONS: Operation[] = [
  { name: "GET /chats", method: "GET", path: () => `${V2}/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`, errorShape: "render", byId: false },
  {
    name: "POST /chats",
    method: "POST",
    path: () => `${V2}/chats`,
    body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550009999"] }, message: { text: "hi" } },
    errorShape: "render",
    byId: false,
  },
  { name: "GET /chats/{chat_id}", method: "GET", path: (i) => `${V2}/chats/${i.chatId}`, errorShape: "render", byId: true },
  {
    name: "GET /chats/find",
    method: "GET",
    path: () => `${V2}/chats/find?phone_number=${encodeURIComponent(OUR_NUMBER)}&phone_numbers[]=%2B15550001234`,
    errorShape: "render",
    byId: false,
  },
  { name: "PUT /chats/{chat_id}/mark_as_read", method: "PUT", path: (i) => `${V2}/chats/${i.chatId}/mark_as_read`, errorShape: "render", byId: true },
  { name: "POST /chats/{chat_id}/start_typing", method: "POST", path: (i) => `${V2}/chats/${i.chatId}/start_typing`, errorShape: "render", byId: true },
  { name: "DELETE /chats/{chat_id}/stop_typing", method: "DELETE", path: (i) => `${V2}/chats/${i.chatId}/stop_typing`, errorShape: "render", byId: true },
  { name: "POST /chats/{chat_id}/share_contact", method: "POST", path: (i) => `${V2}/chats/${i.chatId}/share_contact`, errorShape: "render", byId: true },
  { name: "GET /chats/{chat_id}/chat_messages", method: "GET", path: (i) => `${V2}/chats/${i.chatId}/chat_messages`, errorShape: "render", byId: true },
  {
    name: "POST /chats/{chat_id}/chat_messages",
    method: "POST",
    path: (i) => `${V2}/chats/${i.chatId}/chat_messages`,
    body: { message: { text: "intruder" } },
    errorShape: "render",
    byId: true,
  },
  {
    name: "GET /chats/{chat_id}/chat_messages/{id}",
    method: "GET",
    path: (i) => `${V2}/chats/${i.chatId}/chat_messages/${i.messageId}`,
    errorShape: "render",
    byId: true,
  },
  {
    name: "DELETE /chats/{chat_id}/chat_messages/{id}",
    method: "DELETE",
    path: (i) => `${V2}/chats/${i.chatId}/chat_messages/${i.messageId}`,
    errorShape: "render",
    byId: true,
  },
  {
    name: "POST /chats/{chat_id}/chat_messages/{id}/edit",
    method: "POST",
    path: (i) => `${V2}/chats/${i.chatId}/chat_messages/${i.messageId}/edit`,
    body: { text: "edited by someone else" },
    errorShape: "render",
    byId: true,
  },
  {
    name: "POST /chat_messages/{chat_message_id}/reactions",
    method: "POST",
    path: (i) => `${V2}/chat_messages/${i.messageId}/reactions`,
    body: { type: "dislike", operation: "add" },
    errorShape: "render",
    byId: true,
  },
  {
    name: "GET /chat_message_reactions/{reaction_id}",
    method: "GET",
    path: (i) => `${V2}/chat_message_reactions/${i.reactionId}`,
    errorShape: "render",
    byId: true,
  },
  { name: "GET /contacts", method: "GET", path: () => `${V2}/contacts`, errorShape: "standard", byId: false },
  {
    name: "POST /contacts",
    method: "POST",
    path: () => `${V2}/contacts`,
    body: { contact: { first_name: "New" } },
    errorShape: "standard",
    byId: false,
  },
  { name: "GET /contacts/{id}", method: "GET", path: (i) => `${V2}/contacts/${i.contactId}`, errorShape: "standard", byId: true },
  {
    name: "PUT /contacts/{id}",
    method: "PUT",
    path: (i) => `${V2}/contacts/${i.contactId}`,
    body: { contact: { first_name: "Changed" } },
    errorShape: "standard",
    byId: true,
  },
  {
    name: "PATCH /contacts/{id}",
    method: "PATCH",
    path: (i) => `${V2}/contacts/${i.contactId}`,
    body: { contact: { last_name: "Changed" } },
    errorShape: "standard",
    byId: true,
  },
  { name: "DELETE /contacts/{id}", method: "DELETE", path: (i) => `${V2}/contacts/${i.contactId}`, errorShape: "standard", byId: true },
  {
    name: "GET /contacts/find",
    method: "GET",
    path: () => `${V2}/contacts/find?email=isolated%40example.com`,
    errorShape: "standard",
    byId: false,
  },
  { name: "GET /phone_numbers", method: "GET", path: () => `${V2}/phone_numbers`, errorShape: "render", byId: false },
  {
    name: "PUT /phone_numbers/{id}",
    method: "PUT",
    path: (i) => `${V2}/phone_numbers/${i.phoneNumberId}`,
    body: { forwarding_number: "+15550004444" },
    errorShape: "render",
    byId: true,
  },
  {
    name: "POST /i_message_availability/check",
    method: "POST",
    path: () => `${V2}/i_message_availability/check`,
    body: { phone_number: "+15550001234" },
    errorShape: "render",
    byId: false,
  },
  { name: "GET /webhook_subscriptions", method: "GET", path: () => `${V2}/webhook_subscriptions`, errorShape: "standard", byId: false },
  {
    name: "POST /webhook_subscriptions",
    method: "POST",
    path: () => `${V2}/webhook_subscriptions`,
    body: { webhook_subscription: { webhook_url: "https://hooks.example.com/", version: 2, events: ["message.sent"] } },
    errorShape: "standard",
    byId: false,
  },
  {
    name: "PUT /webhook_subscriptions/{webhook_subscription_id}",
    method: "PUT",
    path: (i) => `${V2}/webhook_subscriptions/${i.subscriptionId}`,
    body: { webhook_subscription: { active: false } },
    errorShape: "standard",
    byId: true,
  },
  {
    name: "DELETE /webhook_subscriptions/{webhook_subscription_id}",
    method: "DELETE",
    path: (i) => `${V2}/webhook_subscriptions/${i.subscriptionId}`,
    errorShape: "standard",
    byId: true,
  },
];
