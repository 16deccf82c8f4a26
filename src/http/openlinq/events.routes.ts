import type { FastifyPluginAsync } from "fastify";
import type { CoreDeps } from "../../core/deps.ts";
import { WEBHOOK_EVENT_TYPES } from "../../core/model.ts";
import { isoMillis } from "../../core/time.ts";
import {
  getEvent,
  listEvents,
  recoverSubscription,
  resendEvent,
  type DeliveryLogDeps,
} from "../../delivery/delivery-log.service.ts";
import type { DeliveryRepository, DeliverySummary, LoggedAttempt, LoggedEvent } from "../../delivery/ports.ts";
import { errorResponses, idParam, MAX_PER_PAGE, pageQueryProperties, paginationSchema } from "../v2/schemas.ts";

/**
 * The delivery log: every event we emitted, where it went, and every attempt with what
 * was sent and what came back. Our own endpoints (render_error envelope), authenticated by
 * the integration token and scoped to its organization.
 */

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, "null"], ...extra });
const dateTime = { type: "string", format: "date-time" } as const;
const stringMap = { type: "object", additionalProperties: { type: "string" } } as const;

const deliverySchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    subscription_id: { type: "integer" },
    webhook_url: { type: "string" },
    status: { type: "string", enum: ["pending", "succeeded", "failed"] },
    attempt_count: { type: "integer", description: "Attempts in the current round (a resend starts a new round)" },
    next_attempt_at: nullable("string", { format: "date-time" }),
    last_response_status: nullable("integer"),
    last_error: nullable("string"),
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

const eventSummarySchema = {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    event_type: { type: "string" },
    chat_id: nullable("integer"),
    created_at: dateTime,
    deliveries: { type: "array", items: deliverySchema },
  },
} as const;

const attemptSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    delivery_id: { type: "integer" },
    subscription_id: { type: "integer" },
    attempt_number: { type: "integer" },
    url: { type: "string" },
    attempted_at: dateTime,
    duration_ms: { type: "integer" },
    error: nullable("string"),
    request: {
      type: "object",
      properties: { headers: stringMap, body: { type: "string", description: "The exact bytes sent and signed" } },
    },
    response: {
      type: ["object", "null"],
      description: "null when no response arrived (timeout, connection error, refused URL)",
      properties: {
        status: { type: "integer" },
        headers: stringMap,
        body: { type: "string", description: "Truncated to 4 KiB" },
      },
    },
  },
} as const;

const eventDetailSchema = {
  type: "object",
  properties: {
    ...eventSummarySchema.properties,
    payload: { type: "object", additionalProperties: true, description: "The envelope as delivered" },
    attempts: { type: "array", items: attemptSchema },
  },
} as const;

function toDelivery(delivery: DeliverySummary) {
  return {
    id: delivery.id,
    subscription_id: delivery.subscriptionId,
    webhook_url: delivery.webhookUrl,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    next_attempt_at: delivery.nextAttemptAt ? isoMillis(delivery.nextAttemptAt) : null,
    last_response_status: delivery.lastResponseStatus,
    last_error: delivery.lastError,
    created_at: isoMillis(delivery.createdAt),
    updated_at: isoMillis(delivery.updatedAt),
  };
}

function toEventSummary(event: LoggedEvent) {
  return {
    id: event.id,
    event_type: event.eventType,
    chat_id: event.chatId,
    created_at: isoMillis(event.createdAt),
    deliveries: event.deliveries.map(toDelivery),
  };
}

function toAttempt(attempt: LoggedAttempt) {
  return {
    id: attempt.id,
    delivery_id: attempt.deliveryId,
    subscription_id: attempt.subscriptionId,
    attempt_number: attempt.attemptNumber,
    url: attempt.url,
    attempted_at: isoMillis(attempt.attemptedAt),
    duration_ms: attempt.durationMs,
    error: attempt.error,
    request: { headers: attempt.requestHeaders, body: attempt.requestBody },
    response:
      attempt.responseStatus === null
        ? null
        : { status: attempt.responseStatus, headers: attempt.responseHeaders ?? {}, body: attempt.responseBody ?? "" },
  };
}

export interface EventRoutesOptions {
  deps: CoreDeps;
  deliveries: DeliveryRepository;
}

export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, { deps, deliveries }) => {
  const log: DeliveryLogDeps = { deliveries, store: deps.store, clock: deps.clock, outbox: deps.outbox };
  app.addHook("onRequest", app.auth.authenticate(["integration-header", "bearer"]));
  const tags = ["openlinq: webhook delivery log"];
  const errors = (...statuses: number[]) => errorResponses("render", statuses);
  const eventParams = {
    type: "object",
    required: ["event_id"],
    properties: { event_id: { type: "string", format: "uuid" } },
  } as const;

  app.get<{
    Querystring: { event_type?: string; chat_id?: number; since?: string; page: number; per_page: number };
  }>(
    "/events",
    {
      schema: {
        tags,
        summary: "List emitted webhook events, newest first, with their deliveries",
        querystring: {
          type: "object",
          properties: {
            event_type: { type: "string", enum: [...WEBHOOK_EVENT_TYPES] },
            chat_id: { type: "integer", minimum: 1 },
            since: { type: "string", format: "date-time", description: "Only events created at or after this time" },
            ...pageQueryProperties,
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              events: { type: "array", items: eventSummarySchema },
              pagination: paginationSchema,
            },
          },
          ...errors(400, 422),
        },
      },
    },
    async (request) => {
      const page = request.query.page;
      const perPage = Math.min(request.query.per_page, MAX_PER_PAGE);
      const result = await listEvents(log, request.caller.orgId, {
        eventType: request.query.event_type,
        chatId: request.query.chat_id,
        since: request.query.since,
        page,
        perPage,
      });
      return {
        events: result.items.map(toEventSummary),
        pagination: {
          current_page: page,
          per_page: perPage,
          total_pages: Math.ceil(result.total / perPage),
          total_count: result.total,
        },
      };
    },
  );

  app.get<{ Params: { event_id: string } }>(
    "/events/:event_id",
    {
      schema: {
        tags,
        summary: "One event: its payload, deliveries and every attempt (request and response)",
        params: eventParams,
        response: { 200: { type: "object", properties: { event: eventDetailSchema } }, ...errors(400, 404) },
      },
    },
    async (request) => {
      const event = await getEvent(log, request.caller.orgId, request.params.event_id);
      return {
        event: {
          ...toEventSummary(event),
          payload: JSON.parse(event.payload) as Record<string, unknown>,
          attempts: event.attempts.map(toAttempt),
        },
      };
    },
  );

  const requeueSchema = {
    type: "object",
    properties: {
      deliveries: {
        type: "array",
        items: {
          type: "object",
          properties: {
            subscription_id: { type: "integer" },
            delivery_id: { type: "integer" },
            result: { type: "string", enum: ["queued", "already_pending"] },
          },
        },
      },
    },
  } as const;

  app.post<{ Params: { event_id: string }; Body: { subscription_id?: number } | undefined }>(
    "/events/:event_id/resend",
    {
      schema: {
        tags,
        summary: "Send an event again (same body and event_id) to one subscription or to all that listen to it",
        description:
          "Without `subscription_id`, every active subscription whose events include the type gets it. " +
          "A delivery already waiting is made due now; one in flight is left alone.",
        params: eventParams,
        body: {
          type: ["object", "null"],
          properties: { subscription_id: { type: "integer", minimum: 1 } },
          additionalProperties: false,
        },
        response: { 202: requeueSchema, ...errors(400, 404, 422) },
      },
    },
    async (request, reply) => {
      const outcomes = await resendEvent(
        log,
        request.caller.orgId,
        request.params.event_id,
        request.body?.subscription_id,
      );
      return reply.code(202).send({
        deliveries: outcomes.map((o) => ({ subscription_id: o.subscriptionId, delivery_id: o.deliveryId, result: o.result })),
      });
    },
  );

  app.post<{ Params: { webhook_subscription_id: number }; Body: { since: string } }>(
    "/webhook_subscriptions/:webhook_subscription_id/recover",
    {
      schema: {
        tags,
        summary: "Queue again every failed delivery of a subscription since a time",
        params: idParam("webhook_subscription_id"),
        body: {
          type: "object",
          required: ["since"],
          properties: { since: { type: "string", format: "date-time" } },
          additionalProperties: false,
        },
        response: {
          202: {
            type: "object",
            properties: { requeued: { type: "integer" }, since: dateTime },
          },
          ...errors(400, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const result = await recoverSubscription(
        log,
        request.caller.orgId,
        request.params.webhook_subscription_id,
        request.body.since,
      );
      return reply.code(202).send({ requeued: result.requeued, since: isoMillis(result.since) });
    },
  );
};
