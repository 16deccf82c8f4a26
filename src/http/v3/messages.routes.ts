import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DomainError } from "../../core/errors.ts";
import { updateAppCard } from "../../core/messages/app-cards.service.ts";
import { sendToRecipients } from "../../core/messages/line-selection.service.ts";
import { deleteMessage } from "../../core/messages/messages.service.ts";
import { reactToMessage } from "../../core/messages/reactions.service.ts";
import { editMessagePart, listThread, loadMessageByUuid } from "../../core/messages/threads.service.ts";
import { acknowledge } from "./chats.routes.ts";
import { decodeOffsetCursor } from "./cursor.ts";
import { requireHandle } from "./handles.ts";
import { toAppCardLayout, toOutgoingMessage } from "./message-content.ts";
import { toV3Handle, toV3Message, toV3SentMessage } from "./presenters.ts";
import {
  ackSchema,
  appCardLayoutSchema,
  chatHandleSchema,
  cursorQueryProperties,
  errorResponses,
  idParams,
  messageContentSchema,
  messageSchema,
  noContent,
  reactionTypeSchema,
  sentMessageSchema,
  serviceSchema,
} from "./schemas.ts";

const messageParams = idParams("messageId");

export const messageRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  const links = deps.links;

  app.post(
    "/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "Send a message; the line and chat are chosen for you",
        headers: { type: "object", properties: { "idempotency-key": { type: "string" } } },
        body: {
          type: "object",
          required: ["to", "message"],
          properties: {
            to: { type: "array", items: { type: "string" }, minItems: 1, maxItems: 31 },
            message: messageContentSchema,
            continuation_message: { type: "object", required: ["text"], properties: { text: { type: "string" } } },
          },
        },
        response: {
          202: {
            type: "object",
            properties: {
              chat_id: { type: "string" },
              created_new_chat: { type: "boolean" },
              from: { type: "string" },
              from_selection: {
                type: "object",
                properties: {
                  reason: { type: "string", enum: ["reused_active_chat", "new_best_number", "failover_flagged"] },
                  reused_existing_chat: { type: "boolean" },
                },
              },
              handles: { type: "array", items: chatHandleSchema },
              is_group: { type: "boolean" },
              message: sentMessageSchema,
              service: serviceSchema,
              previous_chat_id: { type: ["string", "null"] },
            },
          },
          ...errorResponses([403, 404, 409, 422]),
        },
      },
    },
    async (request, reply) => {
      const { body } = request;
      body.to.forEach((handle, i) => requireHandle(handle, `to[${i}]`));
      const message = toOutgoingMessage(body.message);
      // The header is the other place for the key; the body's wins when both are sent.
      message.idempotencyKey ??= request.headers["idempotency-key"] || undefined;
      const result = await sendToRecipients(deps, request.caller.orgId, { recipients: body.to, message });
      const { chat } = result;
      return reply.code(202).send({
        chat_id: chat.chat.uuid,
        created_new_chat: result.createdChat,
        from: result.from.phoneNumber,
        from_selection: { reason: result.reason, reused_existing_chat: !result.createdChat },
        handles: chat.handles.map(toV3Handle),
        is_group: chat.chat.isGroup,
        message: toV3SentMessage(result.message, chat, links),
        service: chat.chat.service,
        previous_chat_id: null,
      });
    },
  );

  app.get(
    "/messages/:messageId",
    {
      schema: {
        tags: ["messages"],
        summary: "Get a message",
        params: messageParams,
        response: { 200: messageSchema, ...errorResponses([404]) },
      },
    },
    async (request) => {
      const { chat, details } = await loadMessageByUuid(deps.store.read, request.caller.orgId, request.params.messageId);
      return toV3Message(details, chat, links);
    },
  );

  app.patch(
    "/messages/:messageId",
    {
      schema: {
        tags: ["messages"],
        summary: "Edit a text part of a message you sent",
        params: messageParams,
        body: {
          type: "object",
          required: ["text"],
          properties: { text: { type: "string" }, part_index: { type: "integer", minimum: 0 } },
        },
        response: { 200: messageSchema, ...errorResponses([403, 404, 409]) },
      },
    },
    async (request) => {
      const { chat, details } = await editMessagePart(
        deps,
        request.caller.orgId,
        request.params.messageId,
        request.body.part_index ?? 0,
        request.body.text,
      );
      return toV3Message(details, chat, links);
    },
  );

  app.delete(
    "/messages/:messageId",
    {
      schema: {
        tags: ["messages"],
        summary: "Delete a message from this server (recipients keep their copy)",
        params: messageParams,
        response: { 204: noContent, ...errorResponses([404]) },
      },
    },
    async (request, reply) => {
      const { chat, details } = await loadMessageByUuid(deps.store.read, request.caller.orgId, request.params.messageId);
      await deleteMessage(deps, request.caller.orgId, chat.chat.id, details.message.id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/messages/:messageId/reactions",
    {
      schema: {
        tags: ["messages"],
        summary: "Add or remove your reaction on a part of a message",
        params: messageParams,
        body: {
          type: "object",
          required: ["operation", "type"],
          properties: {
            operation: { type: "string", enum: ["add", "remove"] },
            type: reactionTypeSchema,
            custom_emoji: { type: "string" },
            part_index: { type: "integer", minimum: 0 },
          },
        },
        response: { 202: ackSchema, ...errorResponses([404, 409]) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      if (body.type === "sticker") {
        throw new DomainError("validation_failed", "type: stickers can be received, not sent", {
          field: "type",
          reason: ": stickers can be received, not sent",
        });
      }
      const message = await deps.store.read.messages.findByUuid(request.caller.orgId, request.params.messageId);
      if (!message) throw new DomainError("message_not_found", "Message not found");
      await reactToMessage(deps, request.caller.orgId, message.id, body.type, body.operation, {
        partIndex: body.part_index,
        customEmoji: body.custom_emoji,
      });
      return acknowledge(reply, body.operation === "add" ? "Reaction queued" : "Reaction removal queued");
    },
  );

  app.get(
    "/messages/:messageId/thread",
    {
      schema: {
        tags: ["messages"],
        summary: "The thread of a message: the message that started it and its replies",
        params: messageParams,
        querystring: {
          type: "object",
          properties: { ...cursorQueryProperties, order: { type: "string", enum: ["asc", "desc"] } },
        },
        response: {
          200: {
            type: "object",
            properties: { messages: { type: "array", items: messageSchema }, next_cursor: { type: ["string", "null"] } },
          },
          ...errorResponses([404]),
        },
      },
    },
    async (request) => {
      const { cursor, limit = 50, order = "asc" } = request.query;
      const offset = decodeOffsetCursor(cursor);
      const { chat, messages } = await listThread(deps, request.caller.orgId, request.params.messageId);
      const ordered = order === "asc" ? messages : [...messages].reverse();
      const page = ordered.slice(offset, offset + limit);
      return {
        messages: page.map((m) => toV3Message(m, chat, links)),
        next_cursor: offset + limit < ordered.length ? String(offset + limit) : null,
      };
    },
  );

  app.post(
    "/messages/:messageId/update",
    {
      schema: {
        tags: ["messages"],
        summary: "Replace a delivered iMessage app card of yours; the new card is a new message",
        params: messageParams,
        body: {
          type: "object",
          required: ["layout"],
          properties: {
            layout: appCardLayoutSchema,
            fallback_text: { type: "string" },
            interactive: { type: "boolean", description: "Default true on every update; not inherited" },
            url: { type: "string", description: "https (at most 2,048 characters) or data: (at most 16,384)" },
          },
        },
        response: {
          202: { type: "object", properties: { chat_id: { type: "string" }, message: sentMessageSchema } },
          ...errorResponses([404, 409, 422]),
        },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const { chat, message } = await updateAppCard(deps, request.caller.orgId, request.params.messageId, {
        layout: toAppCardLayout(body.layout),
        fallbackText: body.fallback_text ?? null,
        interactive: body.interactive ?? true,
        url: body.url ?? null,
      });
      return reply.code(202).send({ chat_id: chat.chat.uuid, message: toV3SentMessage(message, chat, links) });
    },
  );
};
