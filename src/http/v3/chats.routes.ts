import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { FastifyReply } from "fastify";
import { loadChatByUuid, loadParticipantsByUuid } from "../../core/chats/chat-loading.ts";
import { listChatPage, listMessagePage } from "../../core/chats/chat-pages.ts";
import {
  createChat,
  markChatRead,
  shareContact,
  startTyping,
  stopTyping,
} from "../../core/chats/chats.service.ts";
import { leaveChat, requireActiveChat, updateGroupChat } from "../../core/chats/group-chats.service.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DomainError } from "../../core/errors.ts";
import { changeParticipants } from "../../core/inbound/participants.service.ts";
import { sendMessage } from "../../core/messages/messages.service.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { traceIdOf } from "./errors.ts";
import { requireE164, requireHandle } from "./handles.ts";
import { toOutgoingMessage, type WireMessageContent } from "./message-content.ts";
import { toV3Chat, toV3Handle, toV3Message, toV3SentMessage, v3DisplayName } from "./presenters.ts";
import {
  ackSchema,
  chatHandleSchema,
  chatSchema,
  cursorQueryProperties,
  errorResponses,
  idParams,
  messageContentSchema,
  messageSchema,
  noContent,
  sentMessageSchema,
} from "./schemas.ts";

const chatParams = idParams("chatId");

const healthStatusSchema = chatSchema.properties.health_status;

/** A 202 acknowledgement: what was queued, and the request's trace id. */
export function acknowledge(reply: FastifyReply, message: string) {
  return reply.code(202).send({ message, status: "accepted", trace_id: traceIdOf(reply) });
}

/**
 * The first message of a chat must not carry a link (a link part, or a URL inside a text
 * part): carriers filter such first contacts as spam.
 */
function refuseLinksInFirstMessage(content: WireMessageContent): void {
  content.parts.forEach((part, i) => {
    if (part.type === "link" || (part.type === "text" && /\bhttps?:\/\/|\bwww\.\S/i.test(part.value ?? ""))) {
      throw new DomainError("validation_failed", `message.parts[${i}] must not contain a link in the first message of a chat`, {
        field: `message.parts[${i}]`,
        reason: " must not contain a link in the first message of a chat",
      });
    }
  });
}

export const chatRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  const links = deps.links;
  const activeChat = async (orgId: number, chatId: string) =>
    requireActiveChat(await loadChatByUuid(deps.store.read, orgId, chatId));

  app.post(
    "/chats",
    {
      schema: {
        tags: ["chats"],
        summary: "Create a chat and send its first message",
        body: {
          type: "object",
          required: ["from", "to", "message"],
          properties: {
            from: { type: "string", description: "One of your numbers, E.164" },
            to: { type: "array", items: { type: "string" }, minItems: 1, maxItems: 31 },
            message: messageContentSchema,
          },
        },
        response: {
          201: {
            type: "object",
            properties: {
              chat: {
                type: "object",
                properties: {
                  id: { type: "string" },
                  display_name: { type: ["string", "null"] },
                  handles: { type: "array", items: chatHandleSchema },
                  health_status: healthStatusSchema,
                  is_group: { type: "boolean" },
                  message: sentMessageSchema,
                  service: chatSchema.properties.service,
                },
              },
            },
          },
          ...errorResponses([403, 404, 409, 422]),
        },
      },
    },
    async (request, reply) => {
      const { body } = request;
      requireE164(body.from, "from");
      body.to.forEach((handle, i) => requireHandle(handle, `to[${i}]`));
      refuseLinksInFirstMessage(body.message);
      const result = await createChat(deps, request.caller.orgId, {
        sendFrom: body.from,
        recipients: body.to,
        message: toOutgoingMessage(body.message),
      });
      const { chat } = result;
      return reply.code(201).send({
        chat: {
          id: chat.chat.uuid,
          display_name: v3DisplayName(chat),
          handles: chat.handles.map(toV3Handle),
          health_status: toV3Chat(chat).health_status,
          is_group: chat.chat.isGroup,
          message: toV3SentMessage(result.message, chat, links),
          service: chat.chat.service,
        },
      });
    },
  );

  app.get(
    "/chats",
    {
      schema: {
        tags: ["chats"],
        summary: "List chats, most recent activity first",
        querystring: {
          type: "object",
          properties: {
            from: { type: "string", description: "Only chats of this number of yours (E.164)" },
            to: { type: "string", description: "Only chats with this participant" },
            ...cursorQueryProperties,
          },
        },
        response: {
          200: {
            type: "object",
            properties: { chats: { type: "array", items: chatSchema }, next_cursor: { type: ["string", "null"] } },
          },
          ...errorResponses([403]),
        },
      },
    },
    async (request, reply) =>
      app.readCache.answer(request, reply, async () => {
        const { from, to, cursor, limit } = request.query;
        if (from !== undefined) requireE164(from, "from");
        if (to !== undefined) requireHandle(to, "to");
        const page = await listChatPage(deps, request.caller.orgId, {
          phoneNumber: from,
          participant: to,
          after: decodeCursor(cursor),
          limit: limit ?? 20,
        });
        return { chats: page.items.map(toV3Chat), next_cursor: page.next ? encodeCursor(page.next) : null };
      }),
  );

  app.get(
    "/chats/:chatId",
    {
      schema: {
        tags: ["chats"],
        summary: "Get a chat",
        params: chatParams,
        response: { 200: chatSchema, ...errorResponses([404]) },
      },
    },
    async (request) => toV3Chat(await loadChatByUuid(deps.store.read, request.caller.orgId, request.params.chatId)),
  );

  app.put(
    "/chats/:chatId",
    {
      schema: {
        tags: ["chats"],
        summary: "Rename a group chat or set its icon",
        params: chatParams,
        body: {
          type: "object",
          properties: { display_name: { type: "string" }, group_chat_icon: { type: "string" } },
        },
        response: {
          202: { type: "object", properties: { chat_id: { type: "string" }, status: { type: "string" } } },
          ...errorResponses([404, 409]),
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      if (body.display_name === undefined && body.group_chat_icon === undefined) {
        throw new DomainError("missing_parameter", "display_name or group_chat_icon is required", {
          field: "display_name",
          reason: " or group_chat_icon is required",
        });
      }
      const chat = await loadChatByUuid(deps.store.read, request.caller.orgId, request.params.chatId);
      await updateGroupChat(deps, request.caller.orgId, chat.chat.id, {
        displayName: body.display_name,
        groupChatIcon: body.group_chat_icon,
      });
      return reply.code(202).send({ chat_id: chat.chat.uuid, status: "pending" });
    },
  );

  app.post(
    "/chats/:chatId/read",
    {
      schema: {
        tags: ["chats"],
        summary: "Mark every message of the chat read",
        params: chatParams,
        response: { 204: noContent, ...errorResponses([404, 409]) },
      },
    },
    async (request, reply) => {
      const chat = await activeChat(request.caller.orgId, request.params.chatId);
      await markChatRead(deps, request.caller.orgId, chat.chat.id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/chats/:chatId/leave",
    {
      schema: {
        tags: ["chats"],
        summary: "Leave a group chat",
        params: chatParams,
        response: { 202: ackSchema, ...errorResponses([404, 409]) },
      },
    },
    async (request, reply) => {
      const chat = await loadChatByUuid(deps.store.read, request.caller.orgId, request.params.chatId);
      await leaveChat(deps, request.caller.orgId, chat.chat.id);
      return acknowledge(reply, "Leave group chat queued");
    },
  );

  app.post(
    "/chats/:chatId/share_contact_card",
    {
      schema: {
        tags: ["chats"],
        summary: "Share your number's contact card in the chat",
        params: chatParams,
        response: { 204: noContent, ...errorResponses([404, 409]) },
      },
    },
    async (request, reply) => {
      const chat = await activeChat(request.caller.orgId, request.params.chatId);
      const card = await deps.store.read.contactCards.findByPhoneNumber(chat.chat.phoneNumberId);
      if (!card?.isActive) {
        throw new DomainError("contact_card_not_found", "Set up a contact card for this line first (POST /v3/contact_card)");
      }
      await shareContact(deps, request.caller.orgId, chat.chat.id);
      return reply.code(204).send();
    },
  );

  for (const method of ["POST", "DELETE"] as const) {
    app.route({
      method,
      url: "/chats/:chatId/typing",
      schema: {
        tags: ["chats"],
        summary: method === "POST" ? "Show the typing indicator" : "Hide the typing indicator",
        params: chatParams,
        response: { 204: noContent, ...errorResponses([403, 404, 409]) },
      },
      handler: async (request, reply) => {
        const chat = await activeChat(request.caller.orgId, request.params.chatId);
        if (chat.chat.isGroup) {
          throw new DomainError("forbidden", "Typing indicators are not supported in group chats");
        }
        if (method === "POST") await startTyping(deps, request.caller.orgId, chat.chat.id);
        else await stopTyping(deps, request.caller.orgId, chat.chat.id);
        return reply.code(204).send();
      },
    });

    app.route({
      method,
      url: "/chats/:chatId/participants",
      schema: {
        tags: ["chats"],
        summary: method === "POST" ? "Add a participant to a group chat" : "Remove a participant from a group chat",
        params: chatParams,
        body: { type: "object", required: ["handle"], properties: { handle: { type: "string" } } },
        response: { 202: ackSchema, ...errorResponses([404, 409]) },
      },
      handler: async (request, reply) => {
        const handle = request.body.handle;
        requireHandle(handle, "handle");
        const chat = await activeChat(request.caller.orgId, request.params.chatId);
        if (!chat.chat.isGroup) {
          throw new DomainError("direct_chat_not_supported", "Participants can change only in group chats");
        }
        await changeParticipants(deps, request.caller.orgId, {
          chatId: chat.chat.id,
          ...(method === "POST" ? { add: [handle] } : { remove: [handle] }),
        });
        return acknowledge(reply, method === "POST" ? "Participant addition queued" : "Participant removal queued");
      },
    });
  }

  app.post(
    "/chats/:chatId/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "Send a message into a chat",
        params: chatParams,
        body: { type: "object", required: ["message"], properties: { message: messageContentSchema } },
        response: {
          202: { type: "object", properties: { chat_id: { type: "string" }, message: sentMessageSchema } },
          ...errorResponses([403, 404, 409, 422]),
        },
      },
    },
    async (request, reply) => {
      const outgoing = toOutgoingMessage(request.body.message);
      const orgId = request.caller.orgId;
      const chat = requireActiveChat(await loadParticipantsByUuid(deps.store.read, orgId, request.params.chatId));
      const result = await sendMessage(deps, orgId, chat.chat.id, outgoing, chat);
      return reply.code(202).send({ chat_id: result.chat.chat.uuid, message: toV3SentMessage(result.message, result.chat, links) });
    },
  );

  app.get(
    "/chats/:chatId/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "List a chat's messages, newest first",
        params: chatParams,
        querystring: { type: "object", properties: cursorQueryProperties },
        response: {
          200: {
            type: "object",
            properties: { messages: { type: "array", items: messageSchema }, next_cursor: { type: ["string", "null"] } },
          },
          ...errorResponses([404]),
        },
      },
    },
    async (request, reply) =>
      app.readCache.answer(request, reply, async () => {
        const chat = await loadChatByUuid(deps.store.read, request.caller.orgId, request.params.chatId);
        const page = await listMessagePage(deps, chat, {
          after: decodeCursor(request.query.cursor),
          limit: request.query.limit ?? 50,
        });
        return {
          messages: page.items.map((m) => toV3Message(m, chat, links)),
          next_cursor: page.next ? encodeCursor(page.next) : null,
        };
      }),
  );
};
