import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { FromSchema } from "json-schema-to-ts";
import type { IncomingFile } from "../../core/attachments/attachments.ts";
import {
  createChat,
  findChat,
  getChat,
  listChats,
  markChatRead,
  shareContact,
  startTyping,
  stopTyping,
} from "../../core/chats/chats.service.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DomainError } from "../../core/errors.ts";
import type { OutgoingMessage } from "../../core/messages/messages.service.ts";
import { isIncomingFile } from "../plugins/multipart.ts";
import { V2_FIELD_NAMES } from "./errors.ts";
import { pageMeta, toV2Chat, toV2Message } from "./presenters.ts";
import {
  MAX_PER_PAGE,
  chatMessageSchema,
  chatSchema,
  errorResponses,
  idParam,
  pageMetaSchema,
  pageQueryProperties,
} from "./schemas.ts";

const stringList = { type: "array", items: { type: "string" } } as const;
const fileList = { type: "array", items: {}, description: "Files (multipart/form-data only)" } as const;

/** Message fields as sent in JSON or multipart (`message[...]`). */
export const messageInputSchema = {
  type: "object",
  properties: {
    text: { type: "string" },
    idempotency_key: { type: "string" },
    attachments: fileList,
    attachment_urls: stringList,
  },
} as const;

type MessageInput = FromSchema<typeof messageInputSchema>;

/**
 * Turns the wire message (any accepted shape) into core's OutgoingMessage. `prefix` is
 * where the fields sit on the wire ("message", or "" for the quickstart's flat body), so
 * errors name the field the caller actually sent.
 */
export function toOutgoingMessage(input: MessageInput | undefined, prefix: string): OutgoingMessage {
  const field = (name: string) => (prefix === "" ? name : `${prefix}.${name}`);
  if (!input || typeof input !== "object") {
    throw new DomainError("bad_request", `${prefix} is required`, { field: prefix });
  }
  const uploads: IncomingFile[] = [];
  for (const file of input.attachments ?? []) {
    if (!isIncomingFile(file)) {
      throw new DomainError(
        "bad_request",
        `${field("attachments")} must be files sent as multipart/form-data; use ${field("attachment_urls")} for URLs`,
        { field: field("attachments") },
      );
    }
    uploads.push(file);
  }
  if (input.text === undefined && uploads.length === 0 && (input.attachment_urls ?? []).length === 0) {
    throw new DomainError("bad_request", `${field("text")} is required`, { field: field("text") });
  }
  return {
    text: input.text ?? "",
    idempotencyKey: input.idempotency_key === "" ? undefined : input.idempotency_key,
    uploads,
    attachmentUrls: input.attachment_urls ?? [],
  };
}

/** Body encodings of the write endpoints that carry files (documented in the OpenAPI output). */
export const BODY_ENCODINGS = ["application/json", "multipart/form-data", "application/x-www-form-urlencoded"];

export const clampPerPage = (perPage: number) => Math.min(perPage, MAX_PER_PAGE);

export const chatRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  const renderErrors = (...statuses: number[]) => errorResponses("render", statuses);

  app.get(
    "/chats",
    {
      schema: {
        tags: ["Chats"],
        summary: "List the chats that involve a number, most recent activity first",
        description:
          "For one of your numbers: the chats it sends from. For any other number or email: the chats it currently takes part in.",
        querystring: {
          type: "object",
          required: ["phone_number"],
          properties: {
            phone_number: { type: "string", description: "One of your Linq numbers, or a participant's number or email" },
            ...pageQueryProperties,
          },
        },
        response: {
          200: { type: "object", properties: { data: { type: "array", items: chatSchema }, meta: pageMetaSchema } },
          ...renderErrors(400, 422),
        },
      },
    },
    async (request, reply) =>
      app.readCache.answer(request, reply, async () => {
        const perPage = clampPerPage(request.query.per_page);
        const page = request.query.page;
        const result = await listChats(deps, request.caller.orgId, request.query.phone_number, { page, perPage });
        return { data: result.items.map(toV2Chat), meta: pageMeta(page, perPage, result.total) };
      }),
  );

  app.post(
    "/chats",
    {
      schema: {
        tags: ["Chats"],
        summary: "Create a chat (find-or-create) and send its first message",
        consumes: BODY_ENCODINGS,
        description:
          "Accepts the reference body `{send_from, chat:{phone_numbers, display_name}, message:{text, idempotency_key, attachment_urls}}` " +
          "and the quickstart's `{phone_number, phone_numbers, message:{text}}`, as JSON or multipart/form-data.",
        body: {
          type: "object",
          properties: {
            send_from: { type: "string" },
            phone_number: { type: "string", description: "Quickstart alias of send_from" },
            phone_numbers: { ...stringList, description: "Quickstart alias of chat.phone_numbers" },
            chat: {
              type: "object",
              properties: { display_name: { type: "string" }, phone_numbers: stringList },
            },
            message: messageInputSchema,
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              data: {
                type: "object",
                properties: {
                  ...chatSchema.properties,
                  chat_messages: chatMessageSchema,
                  chat: {
                    type: "object",
                    properties: {
                      id: { type: "integer" },
                      display_name: { type: "string" },
                      service: { type: "string" },
                      group: { type: "boolean" },
                      message_count: { type: "integer" },
                    },
                  },
                  message: chatMessageSchema,
                },
              },
            },
          },
          ...renderErrors(400, 413, 422),
        },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const sendFrom = body.send_from ?? body.phone_number;
      if (!sendFrom) {
        throw new DomainError("bad_request", "send_from is required (the quickstart's phone_number is accepted too)", {
          field: "send_from",
        });
      }
      const recipients = body.chat?.phone_numbers ?? body.phone_numbers;
      if (!recipients) {
        throw new DomainError(
          "bad_request",
          "chat.phone_numbers is required (the quickstart's phone_numbers is accepted too)",
          { field: "chat.phone_numbers" },
        );
      }
      // The quickstart's flat names, when it sent them, name the fields in errors.
      if (body.send_from === undefined || body.chat?.phone_numbers === undefined) {
        request.v2FieldNames = {
          ...V2_FIELD_NAMES,
          ...(body.send_from === undefined ? { sender: "phone_number" } : {}),
          ...(body.chat?.phone_numbers === undefined ? { recipients: "phone_numbers" } : {}),
        };
      }
      const result = await createChat(deps, request.caller.orgId, {
        sendFrom,
        recipients,
        displayName: body.chat?.display_name,
        message: toOutgoingMessage(body.message, "message"),
      });
      const chat = toV2Chat(result.chat);
      const message = toV2Message(result.message, deps.links);
      return {
        data: {
          ...chat,
          chat_messages: message,
          chat: {
            id: chat.id,
            display_name: chat.display_name,
            service: chat.service,
            group: chat.group,
            message_count: chat.message_count,
          },
          message,
        },
      };
    },
  );

  app.get(
    "/chats/find",
    {
      schema: {
        tags: ["Chats"],
        summary: "Find the chat between one of your numbers and exactly these participants",
        querystring: {
          type: "object",
          required: ["phone_number"],
          properties: {
            phone_number: { type: "string" },
            "phone_numbers[]": stringList,
            phone_numbers: stringList,
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              data: {
                type: "object",
                properties: {
                  chat: { anyOf: [chatSchema, { type: "null" }] },
                  messages: { type: "array", items: chatMessageSchema },
                },
              },
            },
          },
          ...renderErrors(400, 422),
        },
      },
    },
    async (request) => {
      const participants = request.query["phone_numbers[]"] ?? request.query.phone_numbers ?? [];
      if (participants.length === 0) {
        throw new DomainError("bad_request", "phone_numbers[] is required", { field: "participants" });
      }
      const chat = await findChat(deps, request.caller.orgId, request.query.phone_number, participants);
      return chat ? { data: { chat: toV2Chat(chat) } } : { data: { chat: null, messages: [] } };
    },
  );

  app.get(
    "/chats/:chat_id",
    {
      schema: {
        tags: ["Chats"],
        summary: "Get a chat",
        params: idParam("chat_id"),
        response: { 200: { type: "object", properties: { data: chatSchema } }, ...renderErrors(404) },
      },
    },
    async (request) => ({ data: toV2Chat(await getChat(deps, request.caller.orgId, request.params.chat_id)) }),
  );

  const noBodyAction = (
    method: "PUT" | "POST" | "DELETE",
    path: string,
    status: 201 | 204,
    summary: string,
    action: (deps: CoreDeps, orgId: number, chatId: number) => Promise<void>,
  ) =>
    app.route({
      method,
      url: `/chats/:chat_id/${path}`,
      schema: {
        tags: ["Chats"],
        summary,
        params: idParam("chat_id"),
        response: { [status]: { type: "null", description: "No body" }, ...renderErrors(404) },
      },
      handler: async (request, reply) => {
        await action(deps, request.caller.orgId, request.params.chat_id);
        return reply.code(status).send();
      },
    });

  noBodyAction("PUT", "mark_as_read", 204, "Mark every message of the chat as read", markChatRead);
  noBodyAction("POST", "start_typing", 201, "Show a typing indicator to the other side", startTyping);
  noBodyAction("DELETE", "stop_typing", 204, "Remove the typing indicator", stopTyping);
  noBodyAction("POST", "share_contact", 201, "Share your number's contact card with the chat", shareContact);
};

