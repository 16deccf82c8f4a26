import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { CoreDeps } from "../../core/deps.ts";
import {
  FAILURE_CODES,
  MAX_SCENARIO_DELAY_MS,
  SCENARIO_KINDS,
  type DeliveryScenario,
} from "../../core/scenarios/delivery-scenario.ts";
import { armScenario, deleteScenario, getScenario, listScenarios } from "../../core/scenarios/delivery-scenarios.service.ts";
import { isoMillis } from "../../core/time.ts";
import { emptyBody, errorResponses, idParam, nullable } from "../v2/schemas.ts";

/**
 * /openlinq/v1/scenarios: make delivery go wrong on purpose for one chat or one message —
 * a message failing after it was sent, delivered then failed, read before delivered, a
 * downgrade to SMS; a webhook delivered twice, late, or out of order. Integration-token auth
 * (Bearer too, for the inbox), render_error envelope like the rest of /openlinq/v1.
 */

const scenarioSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    kind: { type: "string", enum: [...SCENARIO_KINDS] },
    chat_id: { type: "integer" },
    message_id: nullable("integer", { description: "The message it played on" }),
    code: nullable("integer", { description: "The message.failed code" }),
    delay_ms: { type: "integer" },
    status: { type: "string", enum: ["armed", "applied"] },
    event_ids: { type: "array", items: { type: "string" }, description: "Events it made or whose deliveries it shaped" },
    created_at: { type: "string", format: "date-time" },
    applied_at: nullable("string", { format: "date-time" }),
  },
} as const;

function toScenario(scenario: DeliveryScenario) {
  return {
    id: scenario.id,
    kind: scenario.kind,
    chat_id: scenario.chatId,
    message_id: scenario.messageId,
    code: scenario.code,
    delay_ms: scenario.delayMs,
    status: scenario.status,
    event_ids: scenario.eventIds,
    created_at: isoMillis(scenario.createdAt),
    applied_at: scenario.appliedAt ? isoMillis(scenario.appliedAt) : null,
  };
}

const idRef = { anyOf: [{ type: "integer", minimum: 1 }, { type: "string", minLength: 1, maxLength: 100 }] } as const;

export const scenarioRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  app.addHook("onRequest", app.auth.authenticate(["integration-header", "bearer"]));
  const tags = ["openlinq: delivery scenarios"];
  const errors = (...statuses: number[]) => errorResponses("render", statuses);
  const one = { 200: { type: "object", properties: { scenario: scenarioSchema } } } as const;

  app.get(
    "/scenarios",
    {
      schema: {
        tags,
        summary: "The organization's delivery scenarios, oldest first: armed ones and what applied ones did",
        response: { 200: { type: "object", properties: { scenarios: { type: "array", items: scenarioSchema } } }, ...errors() },
      },
    },
    async (request) => ({ scenarios: (await listScenarios(deps, request.caller.orgId)).map(toScenario) }),
  );

  app.post(
    "/scenarios",
    {
      schema: {
        tags,
        summary: "Arm a delivery scenario for a chat, or play one on a message of yours now",
        description:
          "With `chat_id` (V2 id or V3 id) the scenario waits for the chat's next message of yours (`message_failed`, " +
          "`delivered_then_failed`, `read_before_delivered`, `sms_downgrade`, played by the simulated carrier at the " +
          "message's usual delivery time) or the chat's next event that goes to a subscription (`duplicate_delivery`, " +
          "`delayed_delivery`, `out_of_order`). With `message_id` a carrier kind plays on that message at once. " +
          "Events and deliveries it makes or shapes carry its id as `scenario_id` in the delivery log.",
        body: {
          type: "object",
          required: ["kind"],
          additionalProperties: false,
          properties: {
            kind: { type: "string", enum: [...SCENARIO_KINDS] },
            chat_id: idRef,
            message_id: idRef,
            code: {
              type: "integer",
              enum: Object.keys(FAILURE_CODES).map(Number),
              description: "message.failed code (message_failed, delivered_then_failed); default 4001",
            },
            delay_ms: {
              type: "integer",
              minimum: 0,
              maximum: MAX_SCENARIO_DELAY_MS,
              description:
                "message_failed: sending → failure (default 0); two-step kinds: between the steps; delayed_delivery, " +
                "out_of_order: how long the event is held (default 1000)",
            },
          },
        },
        response: { 201: one[200], ...errors(400, 404, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const scenario = await armScenario(deps, request.caller.orgId, {
        kind: body.kind,
        chatId: body.chat_id,
        messageId: body.message_id,
        code: body.code,
        delayMs: body.delay_ms,
      });
      return reply.code(201).send({ scenario: toScenario(scenario) });
    },
  );

  app.get(
    "/scenarios/:scenario_id",
    {
      schema: { tags, summary: "One scenario", params: idParam("scenario_id"), response: { ...one, ...errors(400, 404) } },
    },
    async (request) => ({ scenario: toScenario(await getScenario(deps, request.caller.orgId, request.params.scenario_id)) }),
  );

  app.delete(
    "/scenarios/:scenario_id",
    {
      schema: {
        tags,
        summary: "Disarm a scenario (an applied one is forgotten; what it did stays in the log)",
        params: idParam("scenario_id"),
        response: { 204: emptyBody, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      await deleteScenario(deps, request.caller.orgId, request.params.scenario_id);
      return reply.code(204).send();
    },
  );
};
