import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { CoreDeps } from "../../core/deps.ts";
import type { WebhookSubscription } from "../../core/model.ts";
import {
  createTargetSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  updateTargetSubscription,
  type TargetSubscriptionRules,
} from "../../core/webhooks/subscriptions.service.ts";
import { isoMillis } from "../../core/time.ts";
import { requireE164 } from "./handles.ts";
import { errorResponses, idParams, noContent } from "./schemas.ts";
import {
  checkWebhookVersion,
  DEFAULT_WEBHOOK_VERSION,
  V3_WEBHOOK_EVENT_TYPES,
  WEBHOOK_EVENTS_DOC_URL,
  type V3WebhookEventType,
  WEBHOOK_VERSIONS,
} from "./webhook-payloads.ts";

/** V3 subscriptions are API version 3: only this face lists and renders them. */
const RULES: TargetSubscriptionRules = { apiVersion: 3, eventTypes: V3_WEBHOOK_EVENT_TYPES, checkUrl: checkWebhookVersion };

const eventTypeSchema = { type: "string", enum: [...V3_WEBHOOK_EVENT_TYPES] } as const;

const subscriptionProperties = {
  id: { type: "string", description: "UUID" },
  target_url: {
    type: "string",
    description: `Where events are POSTed, exactly as given; \`?version=\` picks the payload version (${WEBHOOK_VERSIONS.join(", ")}; default ${DEFAULT_WEBHOOK_VERSION})`,
  },
  subscribed_events: { type: "array", items: eventTypeSchema },
  phone_numbers: { type: ["array", "null"], items: { type: "string" }, description: "Lines (E.164) whose events it gets; null: every line" },
  is_active: { type: "boolean" },
  created_at: { type: "string", format: "date-time" },
  updated_at: { type: "string", format: "date-time" },
} as const;

const subscriptionSchema = { type: "object", properties: subscriptionProperties } as const;

function toV3Subscription(subscription: WebhookSubscription) {
  return {
    id: subscription.uuid,
    target_url: subscription.webhookUrl,
    // RULES let only V3 event types into a V3 subscription.
    subscribed_events: subscription.events as V3WebhookEventType[],
    phone_numbers: subscription.phoneNumbers,
    is_active: subscription.active,
    created_at: isoMillis(subscription.createdAt),
    updated_at: isoMillis(subscription.updatedAt),
  };
}

/** A phone number filter is strict E.164, checked with the V3 code for it (1002). */
function checkLineFilter(numbers: readonly string[] | null | undefined): void {
  numbers?.forEach((number, i) => requireE164(number, `phone_numbers[${i}]`));
}

const params = idParams("subscriptionId");

export const webhookRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  const tags = ["webhooks"];

  app.get(
    "/webhook-events",
    {
      schema: {
        tags,
        summary: "List the event types a subscription can receive",
        response: {
          200: {
            type: "object",
            properties: { events: { type: "array", items: eventTypeSchema }, doc_url: { type: "string" } },
          },
          ...errorResponses(),
        },
      },
    },
    async () => ({ events: [...V3_WEBHOOK_EVENT_TYPES], doc_url: WEBHOOK_EVENTS_DOC_URL }),
  );

  app.post(
    "/webhook-subscriptions",
    {
      schema: {
        tags,
        summary: "Subscribe a URL to events; the signing secret is in this answer only",
        body: {
          type: "object",
          required: ["target_url", "subscribed_events"],
          properties: {
            target_url: subscriptionProperties.target_url,
            // No enum here: an unknown type gets a 400 that lists the valid ones.
            subscribed_events: { type: "array", items: { type: "string" } },
            phone_numbers: { type: ["array", "null"], items: { type: "string" } },
          },
        },
        response: {
          201: {
            type: "object",
            properties: {
              ...subscriptionProperties,
              signing_secret: { type: "string", description: "`whsec_` + base64; shown only once" },
            },
          },
          ...errorResponses([409]),
        },
      },
    },
    async (request, reply) => {
      checkLineFilter(request.body.phone_numbers);
      const created = await createTargetSubscription(deps, request.caller.orgId, RULES, {
        targetUrl: request.body.target_url,
        subscribedEvents: request.body.subscribed_events,
        phoneNumbers: request.body.phone_numbers,
      });
      return reply.code(201).send({ ...toV3Subscription(created.subscription), signing_secret: created.secret });
    },
  );

  app.get(
    "/webhook-subscriptions",
    {
      schema: {
        tags,
        summary: "List your V3 webhook subscriptions",
        response: {
          200: { type: "object", properties: { subscriptions: { type: "array", items: subscriptionSchema } } },
          ...errorResponses(),
        },
      },
    },
    async (request) => ({
      subscriptions: (await listSubscriptions(deps, request.caller.orgId, RULES.apiVersion)).map(toV3Subscription),
    }),
  );

  app.get(
    "/webhook-subscriptions/:subscriptionId",
    {
      schema: { tags, summary: "Get a webhook subscription", params, response: { 200: subscriptionSchema, ...errorResponses([404]) } },
    },
    async (request) =>
      toV3Subscription(await getSubscription(deps, request.caller.orgId, request.params.subscriptionId, RULES.apiVersion)),
  );

  app.put(
    "/webhook-subscriptions/:subscriptionId",
    {
      schema: {
        tags,
        summary: "Change a subscription's URL, events, line filter or activity (omitted fields keep their values; the secret never changes)",
        params,
        body: {
          type: ["object", "null"],
          properties: {
            target_url: subscriptionProperties.target_url,
            subscribed_events: { type: "array", items: { type: "string" } },
            phone_numbers: { type: ["array", "null"], items: { type: "string" }, description: "[] or null removes the filter" },
            is_active: { type: "boolean" },
          },
        },
        response: { 200: subscriptionSchema, ...errorResponses([404, 409]) },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      checkLineFilter(body.phone_numbers);
      const updated = await updateTargetSubscription(deps, request.caller.orgId, RULES, request.params.subscriptionId, {
        targetUrl: body.target_url,
        subscribedEvents: body.subscribed_events,
        phoneNumbers: body.phone_numbers,
        isActive: body.is_active,
      });
      return toV3Subscription(updated);
    },
  );

  app.delete(
    "/webhook-subscriptions/:subscriptionId",
    {
      schema: { tags, summary: "Delete a webhook subscription", params, response: { 204: noContent, ...errorResponses([404]) } },
    },
    async (request, reply) => {
      await deleteSubscription(deps, request.caller.orgId, request.params.subscriptionId, RULES.apiVersion);
      return reply.code(204).send();
    },
  );
};
