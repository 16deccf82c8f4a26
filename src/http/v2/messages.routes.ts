import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DomainError } from "../../core/errors.ts";
import { V2_FIELD_NAMES } from "./errors.ts";
import {
  deleteMessage,
  editMessage,
  getMessage,
  listMessages,
  sendMessage,
} from "../../core/messages/messages.service.ts";
import { getReaction, reactToMessage } from "../../core/messages/reactions.service.ts";
import { BODY_ENCODINGS, clampPerPage, messageInputSchema, toOutgoingMessage } from "./chats.routes.ts";
import { isTapbackType, pageMeta, toV2Message, toV2Reaction } from "./presenters.ts";
import {
  chatMessageSchema,
  errorResponses,
  pageMetaSchema,
  pageQueryProperties,
  reactionSchema,
  reactionTypeSchema,
} from "./schemas.ts";

const chatAndMessageParams = {
  type: "object",
  required: ["chat_id", "id"],
  properties: { chat_id: { type: "integer", minimum: 1 }, id: { type: "integer", minimum: 1 } },
} as const;

export const messageRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  const renderErrors = (...statuses: number[]) => errorResponses("render", statuses);
  const dataMessage = { type: "object", properties: { data: chatMessageSchema } } as const;

  app.get(
    "/chats/:chat_id/chat_messages",
    {
      schema: {
        tags: ["Chat Messages"],
        summary: "List the messages of a chat",
        params: { type: "object", required: ["chat_id"], properties: { chat_id: { type: "integer", minimum: 1 } } },
        querystring: {
          type: "object",
          properties: {
            ...pageQueryProperties,
            before: { type: "string", format: "date-time" },
            after: { type: "string", format: "date-time" },
            sort: { type: "string", enum: ["asc", "desc"], default: "asc" },
          },
        },
        response: {
          200: { type: "object", properties: { data: { type: "array", items: chatMessageSchema }, meta: pageMetaSchema } },
          ...renderErrors(400, 404),
        },
      },
    },
    async (request, reply) =>
      app.readCache.answer(request, reply, async () => {
        const { page, before, after, sort } = request.query;
        const perPage = clampPerPage(request.query.per_page);
        const result = await listMessages(deps, request.caller.orgId, request.params.chat_id, {
          page,
          perPage,
          sort,
          ...(before ? { before: new Date(before) } : {}),
          ...(after ? { after: new Date(after) } : {}),
        });
        return {
          data: result.items.map((m) => toV2Message(m, deps.links)),
          meta: pageMeta(page, perPage, result.total),
        };
      }),
  );

  app.post(
    "/chats/:chat_id/chat_messages",
    {
      schema: {
        tags: ["Chat Messages"],
        summary: "Send a message (201; 200 when the idempotency key matched an earlier message)",
        consumes: BODY_ENCODINGS,
        description:
          "Multipart with `message[text]`, `message[idempotency_key]`, `message[attachments][]`, `message[attachment_urls][]`; " +
          "JSON `{message:{…}}`; or the quickstart's JSON `{text, attachment_urls}`.",
        params: { type: "object", required: ["chat_id"], properties: { chat_id: { type: "integer", minimum: 1 } } },
        body: {
          type: "object",
          properties: {
            message: messageInputSchema,
            ...messageInputSchema.properties,
          },
        },
        response: { 200: dataMessage, 201: dataMessage, ...renderErrors(400, 404, 413, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      // The quickstart sends the message fields at the top level; the reference nests them.
      const input = body.message ?? {
        ...(body.text !== undefined ? { text: body.text } : {}),
        ...(body.idempotency_key !== undefined ? { idempotency_key: body.idempotency_key } : {}),
        ...(body.attachments !== undefined ? { attachments: body.attachments } : {}),
        ...(body.attachment_urls !== undefined ? { attachment_urls: body.attachment_urls } : {}),
      };
      const prefix = body.message ? "message" : "";
      if (prefix === "") request.v2FieldNames = { ...V2_FIELD_NAMES, message: "" };
      const result = await sendMessage(deps, request.caller.orgId, request.params.chat_id, toOutgoingMessage(input, prefix));
      return reply.code(result.replayed ? 200 : 201).send({ data: toV2Message(result.message, deps.links) });
    },
  );

  app.get(
    "/chats/:chat_id/chat_messages/:id",
    {
      schema: {
        tags: ["Chat Messages"],
        summary: "Get a message",
        params: chatAndMessageParams,
        response: { 200: dataMessage, ...renderErrors(404) },
      },
    },
    async (request) => ({
      data: toV2Message(
        await getMessage(deps, request.caller.orgId, request.params.chat_id, request.params.id),
        deps.links,
      ),
    }),
  );

  app.delete(
    "/chats/:chat_id/chat_messages/:id",
    {
      schema: {
        tags: ["Chat Messages"],
        summary: "Delete a message from openlinq's store",
        params: chatAndMessageParams,
        response: { 200: { type: "object", properties: { message: { type: "string" } } }, ...renderErrors(404) },
      },
    },
    async (request) => {
      await deleteMessage(deps, request.caller.orgId, request.params.chat_id, request.params.id);
      return { message: "Message deleted successfully" };
    },
  );

  app.post(
    "/chats/:chat_id/chat_messages/:id/edit",
    {
      schema: {
        tags: ["Chat Messages"],
        summary: "Edit the text of a message you sent",
        params: chatAndMessageParams,
        body: { type: "object", required: ["text"], properties: { text: { type: "string" } } },
        response: {
          200: {
            type: "object",
            properties: {
              message: { type: "string" },
              data: { type: "object", properties: { id: { type: "integer" }, text: { type: "string" } } },
            },
          },
          ...renderErrors(400, 404, 422),
        },
      },
    },
    async (request) => {
      const data = await editMessage(
        deps,
        request.caller.orgId,
        request.params.chat_id,
        request.params.id,
        request.body.text ?? "",
      );
      return { message: "Message updated successfully", data };
    },
  );

  app.post(
    "/chat_messages/:chat_message_id/reactions",
    {
      schema: {
        tags: ["Reactions"],
        summary: "Add or remove your reaction (tapback) on a message",
        params: {
          type: "object",
          required: ["chat_message_id"],
          properties: { chat_message_id: { type: "integer", minimum: 1 } },
        },
        body: {
          type: "object",
          required: ["type", "operation"],
          properties: { type: { type: "string" }, operation: { type: "string" } },
        },
        response: {
          200: { type: "object", properties: { data: reactionSchema } },
          201: { type: "object", properties: { data: reactionSchema } },
          ...renderErrors(400, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { type, operation } = request.body;
      if (!isTapbackType(type)) {
        throw new DomainError(
          "validation_failed",
          `type must be one of ${reactionTypeSchema.enum.join(", ")}`,
          { field: "type" },
        );
      }
      if (operation !== "add" && operation !== "remove") {
        throw new DomainError("validation_failed", "operation must be add or remove", { field: "operation" });
      }
      const change = await reactToMessage(deps, request.caller.orgId, request.params.chat_message_id, type, operation);
      return reply.code(operation === "add" ? 201 : 200).send({ data: toV2Reaction(change.reaction) });
    },
  );

  app.get(
    "/chat_message_reactions/:reaction_id",
    {
      schema: {
        tags: ["Reactions"],
        summary: "Get a reaction",
        params: {
          type: "object",
          required: ["reaction_id"],
          properties: { reaction_id: { type: "integer", minimum: 1 } },
        },
        response: { 200: { type: "object", properties: { data: reactionSchema } }, ...renderErrors(404) },
      },
    },
    async (request) => ({
      data: toV2Reaction(await getReaction(deps, request.caller.orgId, request.params.reaction_id)),
    }),
  );
};
