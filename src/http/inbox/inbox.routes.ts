import type { FastifyPluginAsync } from "fastify";
import type { CoreDeps } from "../../core/deps.ts";
import {
  MAX_SEARCH_LENGTH,
  MAX_THREAD_PAGE,
  getInboxSession,
  getInboxThread,
  listInboxChats,
} from "../../core/inbox/inbox.service.ts";
import { getMessage } from "../../core/messages/messages.service.ts";
import { MAX_PER_PAGE, errorResponses, idParam } from "../v2/schemas.ts";
import { toInboxChatList, toInboxMessage, toInboxSession, toInboxThread } from "./presenters.ts";
import { inboxChatSchema, inboxMessageSchema, sessionSchema, threadSchema } from "./schemas.ts";

const tags = ["Inbox"];

/** /openlinq/v1/inbox/*: the reads behind the web inbox. Authentication is the parent's. */
export const inboxRoutes: FastifyPluginAsync<{ deps: CoreDeps }> = async (app, { deps }) => {
  app.get(
    "/inbox/session",
    {
      schema: {
        tags,
        summary: "Check a token and describe its organization and numbers (the inbox's sign-in)",
        response: { 200: sessionSchema, ...errorResponses("render", []) },
      },
    },
    async (request) => toInboxSession(await getInboxSession(deps, request.caller.orgId)),
  );

  app.get<{ Querystring: { phone_number?: string; q?: string; page: number; per_page: number } }>(
    "/inbox/chats",
    {
      schema: {
        tags,
        summary: "Chats across all of your numbers (or one), newest activity first, with unread counts and last message",
        querystring: {
          type: "object",
          properties: {
            phone_number: { type: "string", description: "Only chats of this number of yours" },
            q: { type: "string", maxLength: MAX_SEARCH_LENGTH, description: "Search name, participants and message text" },
            page: { type: "integer", minimum: 1, default: 1 },
            per_page: { type: "integer", minimum: 1, maximum: MAX_PER_PAGE, default: 50 },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              data: { type: "array", items: inboxChatSchema },
              meta: {
                type: "object",
                properties: {
                  page: { type: "integer" },
                  per_page: { type: "integer" },
                  total_count: { type: "integer" },
                  total_pages: { type: "integer" },
                },
              },
            },
          },
          ...errorResponses("render", [400, 422]),
        },
      },
    },
    async (request) => {
      const { phone_number, q, page, per_page } = request.query;
      const result = await listInboxChats(deps, request.caller.orgId, {
        phoneNumber: phone_number,
        search: q,
        page,
        perPage: per_page,
      });
      return toInboxChatList(result, page, per_page, deps.links);
    },
  );

  app.get<{ Params: { chat_id: number }; Querystring: { limit: number; before_id?: number } }>(
    "/inbox/chats/:chat_id/thread",
    {
      schema: {
        tags,
        summary: "A chat and its newest messages (oldest first), in one call",
        params: idParam("chat_id"),
        querystring: {
          type: "object",
          properties: {
            limit: { type: "integer", minimum: 1, maximum: MAX_THREAD_PAGE, default: MAX_THREAD_PAGE },
            before_id: { type: "integer", minimum: 1, description: "Only messages older than this one" },
          },
        },
        response: { 200: threadSchema, ...errorResponses("render", [400, 404]) },
      },
    },
    async (request) =>
      toInboxThread(
        await getInboxThread(deps, request.caller.orgId, request.params.chat_id, {
          limit: request.query.limit,
          beforeId: request.query.before_id,
        }),
        deps.links,
      ),
  );

  app.get<{ Params: { chat_id: number; id: number } }>(
    "/inbox/chats/:chat_id/messages/:id",
    {
      schema: {
        tags,
        summary: "One message as the inbox shows it (live updates fetch changed messages one by one)",
        params: {
          type: "object",
          required: ["chat_id", "id"],
          properties: { chat_id: { type: "integer", minimum: 1 }, id: { type: "integer", minimum: 1 } },
        },
        response: { 200: inboxMessageSchema, ...errorResponses("render", [400, 404]) },
      },
    },
    async (request) =>
      toInboxMessage(await getMessage(deps, request.caller.orgId, request.params.chat_id, request.params.id), deps.links),
  );
};
