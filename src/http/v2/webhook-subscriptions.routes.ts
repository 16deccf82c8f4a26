import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { FromSchema } from "json-schema-to-ts";
import type { CoreDeps } from "../../core/deps.ts";
import { WEBHOOK_EVENT_TYPES } from "../../core/model.ts";
import {
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  updateSubscription,
  type SubscriptionInput,
} from "../../core/webhooks/subscriptions.service.ts";
import { toV2Subscription } from "./presenters.ts";
import { errorResponses, noBody, webhookSubscriptionSchema } from "./schemas.ts";

const subscriptionFields = {
  webhook_url: { type: "string" },
  version: { type: "integer" },
  // No `enum` here: an unknown type is a 422 from core that lists the valid ones, not a bare schema error.
  events: { type: "array", items: { type: "string" }, description: `Any of: ${WEBHOOK_EVENT_TYPES.join(", ")}` },
  active: { type: "boolean" },
  secret: { type: "string", description: "Signing secret, any non-empty string; generated and returned once when omitted on create" },
} as const;

/** The reference's wrapped fields, or the quickstart's flat ones. */
const subscriptionBody = {
  type: "object",
  properties: {
    webhook_subscription: { type: "object", properties: subscriptionFields },
    ...subscriptionFields,
  },
} as const;

type SubscriptionBody = FromSchema<typeof subscriptionBody>;

/** The reference wraps the fields in `webhook_subscription`; the quickstart sends them flat. */
function subscriptionInput(body: SubscriptionBody | undefined): SubscriptionInput {
  if (body?.webhook_subscription && typeof body.webhook_subscription === "object") return body.webhook_subscription;
  const { webhook_url, version, events, active, secret } = body ?? {};
  return { webhook_url, version, events, active, secret };
}

const params = {
  type: "object",
  required: ["webhook_subscription_id"],
  properties: { webhook_subscription_id: { type: "integer", minimum: 1 } },
} as const;

export const webhookSubscriptionRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  const config = { errorShape: "standard" as const };
  const tags = ["Webhook Subscriptions"];
  const wrapped = { type: "object", properties: { webhook_subscription: webhookSubscriptionSchema } } as const;
  const errors = (...statuses: number[]) => errorResponses("standard", statuses);

  app.get(
    "/webhook_subscriptions",
    {
      config,
      schema: {
        tags,
        summary: "List webhook subscriptions",
        response: {
          200: {
            type: "object",
            properties: { webhook_subscriptions: { type: "array", items: webhookSubscriptionSchema } },
          },
          ...errors(),
        },
      },
    },
    async (request) => ({
      webhook_subscriptions: (await listSubscriptions(deps, request.caller.orgId)).map(toV2Subscription),
    }),
  );

  app.post(
    "/webhook_subscriptions",
    {
      config,
      schema: {
        tags,
        summary: "Create a webhook subscription",
        description: "The response carries `secret` this once; afterwards only `secret_configured` shows.",
        body: subscriptionBody,
        response: {
          201: {
            type: "object",
            properties: {
              webhook_subscription: {
                type: "object",
                properties: { ...webhookSubscriptionSchema.properties, secret: { type: "string" } },
              },
            },
          },
          ...errors(400, 422),
        },
      },
    },
    async (request, reply) => {
      const created = await createSubscription(deps, request.caller.orgId, subscriptionInput(request.body));
      return reply
        .code(201)
        .send({ webhook_subscription: { ...toV2Subscription(created.subscription), secret: created.secret } });
    },
  );

  app.put(
    "/webhook_subscriptions/:webhook_subscription_id",
    {
      config,
      schema: {
        tags,
        summary: "Update a webhook subscription (omitted fields keep their values)",
        params,
        body: subscriptionBody,
        response: { 200: wrapped, ...errors(400, 404, 422) },
      },
    },
    async (request) => ({
      webhook_subscription: toV2Subscription(
        await updateSubscription(
          deps,
          request.caller.orgId,
          request.params.webhook_subscription_id,
          subscriptionInput(request.body),
        ),
      ),
    }),
  );

  app.delete(
    "/webhook_subscriptions/:webhook_subscription_id",
    {
      config,
      schema: {
        tags,
        summary: "Delete a webhook subscription",
        params,
        response: { 204: noBody, ...errors(404) },
      },
    },
    async (request, reply) => {
      await deleteSubscription(deps, request.caller.orgId, request.params.webhook_subscription_id);
      return reply.code(204).send();
    },
  );
};
