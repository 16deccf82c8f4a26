import type { FastifyPluginAsync } from "fastify";
import { recordedEventOf } from "../../core/webhooks/events.ts";
import { renderV2Envelope } from "../v2/webhook-payloads.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DOMAIN_EVENT_TYPES } from "../../core/events/domain-events.ts";
import { isoMillis } from "../../core/time.ts";
import {
  checkSignature,
  getEvent,
  listEvents,
  recoverSubscription,
  resendEvent,
  type DeliveryLogDeps,
} from "../../delivery/delivery-log.service.ts";
import type { DeliveryRepository, DeliverySummary, LoggedAttempt, LoggedEvent } from "../../delivery/ports.ts";
import { likelyRefusalCauses, type SignatureScheme } from "../../delivery/signature-doctor.ts";
import { errorResponses, MAX_PER_PAGE, pageQueryProperties, paginationSchema } from "../v2/schemas.ts";

/**
 * The delivery log: every event we emitted, where it went, and every attempt with what
 * was sent and what came back. Our own endpoints (render_error envelope), authenticated by
 * the integration token and scoped to its organization.
 */

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, "null"], ...extra });
const dateTime = { type: "string", format: "date-time" } as const;
const stringMap = { type: "object", additionalProperties: { type: "string" } } as const;

/** A subscription by its V2 id (integer) or its V3 id (UUID). */
const subscriptionIdSchema = {
  anyOf: [
    { type: "integer", minimum: 1 },
    { type: "string", format: "uuid" },
  ],
} as const;

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
    scenario_id: nullable("integer", { description: "The delivery scenario that delayed, duplicated or reordered it" }),
  },
} as const;

const eventSummarySchema = {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    event_type: { type: "string" },
    chat_id: nullable("integer"),
    created_at: dateTime,
    scenario_id: nullable("integer", { description: "The delivery scenario that made this event (GET /openlinq/v1/scenarios)" }),
    deliveries: { type: "array", items: deliverySchema },
  },
} as const;

const findingSchema = {
  type: "object",
  properties: {
    code: { type: "string" },
    severity: { type: "string", enum: ["ok", "problem", "hint"] },
    message: { type: "string" },
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
    signature_diagnosis: {
      type: ["object", "null"],
      description:
        "When the receiver answered 400, 401 or 403 to a signed delivery: openlinq signed it correctly, so these are the likely causes on the receiver's side, most likely first. POST /openlinq/v1/signature/check pins down which.",
      properties: {
        summary: { type: "string" },
        likely_causes: { type: "array", items: findingSchema },
      },
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
    scenario_id: delivery.scenarioId,
  };
}

/**
 * What the log shows as an event's payload: its V2 envelope (rendered from the domain event,
 * exactly as a V2 subscription receives it), or for an event V2 does not have, the domain
 * event in an envelope of the same outline.
 */
function displayPayload(event: LoggedEvent): Record<string, unknown> {
  if (event.payloadFormat === "v2-envelope") return JSON.parse(event.payload) as Record<string, unknown>;
  const recorded = recordedEventOf(event);
  const v2 = renderV2Envelope(recorded);
  if (v2) return JSON.parse(v2.body) as Record<string, unknown>;
  return { event_type: event.eventType, event_id: event.id, created_at: isoMillis(event.createdAt), data: recorded.event };
}

function toEventSummary(event: LoggedEvent) {
  return {
    id: event.id,
    event_type: event.eventType,
    chat_id: event.chatId,
    created_at: isoMillis(event.createdAt),
    scenario_id: event.scenarioId,
    deliveries: event.deliveries.map(toDelivery),
  };
}

const REFUSALS = new Set([400, 401, 403]);

/** Doctor findings for a signed attempt the receiver refused; null for every other attempt. */
function signatureDiagnosis(attempt: LoggedAttempt, wallClock: Date) {
  if (attempt.responseStatus === null || !REFUSALS.has(attempt.responseStatus)) return null;
  if (attempt.requestHeaders["x-webhook-signature"] === undefined) return null;
  return {
    summary: `The receiver answered ${attempt.responseStatus} to a correctly signed delivery; it most likely fails to verify the signature.`,
    likely_causes: likelyRefusalCauses({
      status: attempt.responseStatus,
      responseBody: attempt.responseBody ?? "",
      requestTimestamp: Number(attempt.requestHeaders["webhook-timestamp"]),
      wallClock,
    }),
  };
}

function toAttempt(attempt: LoggedAttempt, wallClock: Date) {
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
    signature_diagnosis: signatureDiagnosis(attempt, wallClock),
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
  const log: DeliveryLogDeps = { deliveries, store: deps.store, clock: deps.clock, outbox: deps.outbox, webhooks: deps.webhooks };
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
            event_type: { type: "string", enum: [...DOMAIN_EVENT_TYPES] },
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
          payload: displayPayload(event),
          // The machine's clock, not the sandbox's: receivers compare timestamps with theirs.
          attempts: event.attempts.map((attempt) => toAttempt(attempt, new Date())),
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

  app.post<{ Params: { event_id: string }; Body: { subscription_id?: number | string } | undefined }>(
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
          properties: { subscription_id: subscriptionIdSchema },
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

  app.post<{ Params: { webhook_subscription_id: number | string }; Body: { since: string } }>(
    "/webhook_subscriptions/:webhook_subscription_id/recover",
    {
      schema: {
        tags,
        summary: "Queue again every failed delivery of a subscription since a time",
        description: "The subscription by its V2 id (integer) or its V3 id (UUID).",
        params: {
          type: "object",
          required: ["webhook_subscription_id"],
          properties: { webhook_subscription_id: subscriptionIdSchema },
        },
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

  app.post<{
    Body: {
      event_id: string;
      attempt_id?: number;
      body?: string;
      signature?: string;
      compared_with?: string;
      secret?: string;
      timestamp?: string;
      headers?: Record<string, string>;
      scheme?: SignatureScheme;
    };
  }>(
    "/signature/check",
    {
      schema: {
        tags: ["openlinq: signature doctor"],
        summary: "Tell exactly how a receiver's signature check differs from what openlinq signed",
        description:
          "Give what your receiver computed for one delivery: the body bytes it hashed, the signature it produced " +
          "(`signature`) and the header value it compared with (`compared_with`), the secret, timestamp and headers it " +
          "used; every field but `event_id` is optional. The answer lists, per part, whether it matches what openlinq " +
          "signed in that attempt (the newest signed one unless `attempt_id` says), and the exact mistake when not: " +
          "re-serialised or re-encoded body, whsec_ or base64 handling of the secret, hex vs base64, signed content, " +
          "millisecond or stale timestamp, an unstripped prefix.",
        body: {
          type: "object",
          required: ["event_id"],
          additionalProperties: false,
          properties: {
            event_id: { type: "string", format: "uuid" },
            attempt_id: { type: "integer", minimum: 1 },
            body: { type: "string", description: "The exact text your receiver hashed" },
            signature: { type: "string", description: "The signature your receiver computed" },
            compared_with: { type: "string", description: "The value it compared its signature with (from a header)" },
            secret: { type: "string", description: "The secret it used" },
            timestamp: { type: "string", description: "The timestamp it used" },
            headers: { type: "object", additionalProperties: { type: "string" }, description: "Headers it read" },
            scheme: { type: "string", enum: ["v2", "standard", "legacy"], description: "The scheme it meant to verify" },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              verdict: { type: "string", enum: ["match", "mismatch", "unknown"] },
              scheme: { type: ["string", "null"], enum: ["v2", "standard", "legacy", null] },
              reproduced: { type: "boolean", description: "Whether openlinq could reproduce your signature (and so name each mistake)" },
              event_id: { type: "string" },
              attempt_id: { type: "integer" },
              subscription_id: { type: "integer" },
              findings: { type: "array", items: findingSchema },
              expected: {
                type: "object",
                description: "The signatures of that attempt, as sent",
                properties: { v2: { type: "string" }, standard: { type: "string" }, legacy: { type: "string" } },
              },
            },
          },
          ...errors(400, 404, 422),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const result = await checkSignature(log, request.caller.orgId, {
        eventId: body.event_id,
        attemptId: body.attempt_id,
        receiver: {
          body: body.body,
          signature: body.signature,
          comparedWith: body.compared_with,
          secret: body.secret,
          timestamp: body.timestamp,
          headers: body.headers,
          scheme: body.scheme,
        },
        wallClock: new Date(),
      });
      return {
        ...result.diagnosis,
        event_id: body.event_id,
        attempt_id: result.attemptId,
        subscription_id: result.subscriptionId,
      };
    },
  );
};
