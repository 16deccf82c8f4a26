import type { FastifyPluginAsync } from "fastify";
import { CALL_STATUSES, type CallStatus } from "../../core/calls/call.ts";
import { completeCall } from "../../core/calls/calls.service.ts";
import { callFacts } from "../../core/events/domain-events.ts";
import { callCompletedEventData } from "../v2/webhook-payloads.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { updateGroupChat } from "../../core/chats/group-chats.service.ts";
import { receiveMessage } from "../../core/inbound/inbound-messages.service.ts";
import { changeParticipants } from "../../core/inbound/participants.service.ts";
import { readByRecipient, receiveReaction, recipientLocationSharing, recipientTyping } from "../../core/inbound/recipient-actions.service.ts";
import { LINE_REPUTATIONS, LINE_STATUSES, type ReactionType } from "../../core/model.ts";
import { changeLineStanding } from "../../core/phone-numbers/phone-numbers.service.ts";
import { isoMillis } from "../../core/time.ts";
import { toV2Chat, toV2Message, toV2Reaction } from "../v2/presenters.ts";
import { chatHandleSchema, chatMessageSchema, chatSchema, errorResponses, reactionSchema, reactionTypeSchema } from "../v2/schemas.ts";
import { toWireEvents } from "./presenters.ts";
import { callSchema, eventRefsSchema } from "./schemas.ts";

/**
 * The other side of the conversation, driven by hand: POST /openlinq/v1/simulate/*. Each
 * answers with what it created (V2 shapes, integer ids) and the webhook events it emitted.
 */
const handleString = { type: "string", description: "Phone number (E.164) or email" } as const;
const chatId = { type: "integer", minimum: 1 } as const;
const dataOf = (properties: Record<string, unknown>) =>
  ({ type: "object", properties: { data: { type: "object", properties } } }) as const;

export const simulateRoutes: FastifyPluginAsync<{ deps: CoreDeps }> = async (app, { deps }) => {
  const errors = (...statuses: number[]) => errorResponses("render", statuses);

  app.post<{ Body: { from: string; to?: string; text?: string; attachment_urls?: string[]; chat_id?: number } }>(
    "/simulate/inbound_message",
    {
      schema: {
        tags: ["Simulator"],
        summary: "Someone writes to one of your numbers: message.received (a first message starts a 1:1 chat)",
        body: {
          type: "object",
          required: ["from"],
          additionalProperties: false,
          properties: {
            from: handleString,
            to: { type: "string", description: "Your number; optional with chat_id" },
            text: { type: "string" },
            attachment_urls: { type: "array", items: { type: "string" } },
            chat_id: { ...chatId, description: "Write in this chat (a group, say) instead of the 1:1 chat with `to`" },
          },
        },
        response: {
          201: dataOf({ chat: chatSchema, message: chatMessageSchema, created_chat: { type: "boolean" }, events: eventRefsSchema }),
          ...errors(400, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await receiveMessage(deps, request.caller.orgId, {
        from: body.from,
        to: body.to,
        text: body.text,
        attachmentUrls: body.attachment_urls,
        chatId: body.chat_id,
      });
      return reply.code(201).send({
        data: {
          chat: toV2Chat(result.chat),
          message: toV2Message(result.message, deps.links),
          created_chat: result.createdChat,
          events: toWireEvents(result.events),
        },
      });
    },
  );

  app.post<{ Body: { from: string; chat_message_id: number; type: ReactionType; operation: "add" | "remove" } }>(
    "/simulate/reaction",
    {
      schema: {
        tags: ["Simulator"],
        summary: "A participant adds or removes a tapback: reaction.received",
        body: {
          type: "object",
          required: ["from", "chat_message_id", "type", "operation"],
          additionalProperties: false,
          properties: {
            from: handleString,
            chat_message_id: { type: "integer", minimum: 1 },
            type: reactionTypeSchema,
            operation: { type: "string", enum: ["add", "remove"] },
          },
        },
        response: {
          201: dataOf({ reaction: reactionSchema, operation: { type: "string" }, chat_id: { type: "integer" }, events: eventRefsSchema }),
          ...errors(400, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await receiveReaction(deps, request.caller.orgId, {
        from: body.from,
        messageId: body.chat_message_id,
        type: body.type,
        operation: body.operation,
      });
      return reply.code(201).send({
        data: {
          reaction: toV2Reaction(result.reaction),
          operation: result.operation,
          chat_id: result.chat.chat.id,
          events: toWireEvents(result.events),
        },
      });
    },
  );

  app.post<{ Body: { from: string; chat_id: number; state: "started" | "stopped" } }>(
    "/simulate/typing",
    {
      schema: {
        tags: ["Simulator"],
        summary: "A participant starts or stops typing: typing_indicator.received / .removed (only on a change)",
        body: {
          type: "object",
          required: ["from", "chat_id", "state"],
          additionalProperties: false,
          properties: { from: handleString, chat_id: chatId, state: { type: "string", enum: ["started", "stopped"] } },
        },
        response: {
          200: dataOf({ chat_id: { type: "integer" }, from: { type: "string" }, state: { type: "string" }, events: eventRefsSchema }),
          ...errors(400, 404, 422),
        },
      },
    },
    async (request) => {
      const result = await recipientTyping(deps, request.caller.orgId, {
        from: request.body.from,
        chatId: request.body.chat_id,
        state: request.body.state,
      });
      return {
        data: {
          chat_id: result.chat.chat.id,
          from: result.from,
          state: result.state,
          events: toWireEvents(result.events),
        },
      };
    },
  );

  app.post<{ Body: { from: string; chat_id: number; state: "started" | "stopped"; duration_minutes?: number } }>(
    "/simulate/location_sharing",
    {
      schema: {
        tags: ["Simulator"],
        summary: "A participant starts or stops sharing their location: location.sharing.started / .stopped (V3, only on a change)",
        body: {
          type: "object",
          required: ["from", "chat_id", "state"],
          additionalProperties: false,
          properties: {
            from: handleString,
            chat_id: { ...chatId, description: "A direct iMessage chat with `from`" },
            state: { type: "string", enum: ["started", "stopped"] },
            duration_minutes: { type: "integer", minimum: 1, description: "A time-limited share (started only); default: indefinitely" },
          },
        },
        response: {
          200: dataOf({
            chat_id: { type: "integer" },
            from: { type: "string" },
            state: { type: "string" },
            ends_at: { type: ["string", "null"], format: "date-time" },
            events: eventRefsSchema,
          }),
          ...errors(400, 404, 422),
        },
      },
    },
    async (request) => {
      const result = await recipientLocationSharing(deps, request.caller.orgId, {
        from: request.body.from,
        chatId: request.body.chat_id,
        state: request.body.state,
        durationMinutes: request.body.duration_minutes,
      });
      return {
        data: {
          chat_id: result.chat.chat.id,
          from: result.from,
          state: result.state,
          ends_at: result.endsAt === null ? null : isoMillis(result.endsAt),
          events: toWireEvents(result.events),
        },
      };
    },
  );

  app.post<{ Body: { phone_number: string; status?: string; reputation?: string } }>(
    "/simulate/line_status",
    {
      schema: {
        tags: ["Simulator"],
        summary: "The network flags or clears one of your lines, or rates it: phone_number.status_updated (V3)",
        body: {
          type: "object",
          required: ["phone_number"],
          additionalProperties: false,
          properties: {
            phone_number: { type: "string", description: "One of your lines (E.164)" },
            status: { type: "string", enum: [...LINE_STATUSES] },
            reputation: { type: "string", enum: [...LINE_REPUTATIONS] },
          },
        },
        response: {
          200: dataOf({ phone_number: { type: "string" }, status: { type: "string" }, reputation: { type: "string" } }),
          ...errors(400, 404, 422),
        },
      },
    },
    async (request) => {
      const line = await changeLineStanding(deps, request.caller.orgId, request.body.phone_number, {
        status: request.body.status,
        reputation: request.body.reputation,
      });
      return { data: { phone_number: line.phoneNumber, status: line.status, reputation: line.reputation } };
    },
  );

  app.post<{ Body: { from: string; chat_id: number } }>(
    "/simulate/read",
    {
      schema: {
        tags: ["Simulator"],
        summary: "A participant reads the chat: message.read for each delivered message of yours not yet read",
        body: {
          type: "object",
          required: ["from", "chat_id"],
          additionalProperties: false,
          properties: { from: handleString, chat_id: chatId },
        },
        response: {
          200: dataOf({
            chat_id: { type: "integer" },
            messages: { type: "array", items: chatMessageSchema },
            events: eventRefsSchema,
          }),
          ...errors(400, 404, 422),
        },
      },
    },
    async (request) => {
      const { orgId } = request.caller;
      const result = await readByRecipient(deps, orgId, { from: request.body.from, chatId: request.body.chat_id });
      return {
        data: {
          chat_id: result.chat.chat.id,
          messages: result.messages.map((message) => toV2Message(message, deps.links)),
          events: toWireEvents(result.events),
        },
      };
    },
  );

  app.post<{ Body: { chat_id: number; add?: string[]; remove?: string[] } }>(
    "/simulate/participants",
    {
      schema: {
        tags: ["Simulator"],
        summary: "People join or leave a group chat: participant.added, then participant.removed",
        body: {
          type: "object",
          required: ["chat_id"],
          additionalProperties: false,
          properties: {
            chat_id: chatId,
            add: { type: "array", items: { type: "string" } },
            remove: { type: "array", items: { type: "string" } },
          },
        },
        response: {
          200: dataOf({
            chat: chatSchema,
            added: { type: "array", items: chatHandleSchema },
            removed: { type: "array", items: chatHandleSchema },
            events: eventRefsSchema,
          }),
          ...errors(400, 404, 422),
        },
      },
    },
    async (request) => {
      const result = await changeParticipants(deps, request.caller.orgId, {
        chatId: request.body.chat_id,
        add: request.body.add,
        remove: request.body.remove,
      });
      const handle = (h: (typeof result.added)[number]) => ({
        id: h.id,
        phone_number: h.handle,
        service: h.service,
        joined_at: isoMillis(h.joinedAt),
      });
      return {
        data: {
          chat: toV2Chat(result.chat),
          added: result.added.map(handle),
          removed: result.removed.map(handle),
          events: toWireEvents(result.events),
        },
      };
    },
  );

  app.post<{ Body: { from: string; chat_id: number; display_name?: string; group_chat_icon?: string } }>(
    "/simulate/group_update",
    {
      schema: {
        tags: ["Simulator"],
        summary: "A participant renames a group chat or sets its icon: chat.group_name_updated / chat.group_icon_updated (V3)",
        body: {
          type: "object",
          required: ["from", "chat_id"],
          additionalProperties: false,
          minProperties: 3,
          properties: {
            from: handleString,
            chat_id: chatId,
            display_name: { type: "string", minLength: 1 },
            group_chat_icon: { type: "string", description: "An http(s) URL of the new icon" },
          },
        },
        response: { 200: dataOf({ chat: chatSchema, events: eventRefsSchema }), ...errors(400, 404, 409, 422) },
      },
    },
    async (request) => {
      const body = request.body;
      const result = await updateGroupChat(deps, request.caller.orgId, body.chat_id, {
        from: body.from,
        displayName: body.display_name,
        groupChatIcon: body.group_chat_icon,
      });
      return { data: { chat: toV2Chat(result.chat), events: toWireEvents(result.events) } };
    },
  );

  interface CallBody {
    from: string;
    to: string;
    duration_seconds: number;
    status?: CallStatus;
    started_at?: string;
    voicemail?: boolean;
    answered_by?: string;
    forwarded_from?: string;
    recording?: { url?: string; transcription?: string; summary?: string };
  }

  app.post<{ Body: CallBody }>(
    "/simulate/call",
    {
      schema: {
        tags: ["Simulator"],
        summary: "A voice call on one of your numbers ended: call.completed (to yours: inbound; from yours: outbound)",
        body: {
          type: "object",
          required: ["from", "to", "duration_seconds"],
          additionalProperties: false,
          properties: {
            from: { type: "string" },
            to: { type: "string" },
            duration_seconds: { type: "integer", minimum: 0 },
            status: { type: "string", enum: [...CALL_STATUSES] },
            started_at: { type: "string", format: "date-time" },
            voicemail: { type: "boolean" },
            answered_by: { type: "string" },
            forwarded_from: { type: "string" },
            recording: {
              type: "object",
              additionalProperties: false,
              properties: { url: { type: "string" }, transcription: { type: "string" }, summary: { type: "string" } },
            },
          },
        },
        response: { 201: dataOf({ call: callSchema, events: eventRefsSchema }), ...errors(400, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await completeCall(deps, request.caller.orgId, {
        from: body.from,
        to: body.to,
        durationSeconds: body.duration_seconds,
        status: body.status,
        startedAt: body.started_at === undefined ? undefined : new Date(body.started_at),
        voicemail: body.voicemail,
        answeredBy: body.answered_by,
        forwardedFrom: body.forwarded_from,
        recording: body.recording,
      });
      return reply.code(201).send({ data: { call: callCompletedEventData(callFacts(result.call)), events: toWireEvents(result.events) } });
    },
  );
};
