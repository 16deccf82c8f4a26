import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import { FAULT_METHODS, FAULT_STATUSES, isFaultActive, MAX_FAULT_LATENCY_MS, type ApiFault } from "../../core/faults/api-fault.ts";
import type { ApiFaults } from "../../core/faults/api-faults.service.ts";
import { isoMillis } from "../../core/time.ts";
import { emptyBody, errorResponses, idParam, nullable } from "../v2/schemas.ts";

/**
 * /openlinq/v1/faults: make the organization's own Linq API misbehave on purpose, see what
 * was injected, turn it off. Integration-token auth (Bearer too, for the inbox), render_error
 * envelope like the rest of /openlinq/v1.
 */

const faultSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    method: { type: "string" },
    path: { type: "string" },
    token_id: nullable("integer"),
    status: nullable("integer"),
    retry_after: nullable("integer"),
    latency_ms: { type: "integer" },
    count: nullable("integer"),
    fraction: { type: "number" },
    matched: { type: "integer", description: "Matching requests seen so far" },
    hits: { type: "integer", description: "Requests it changed so far" },
    active: { type: "boolean", description: "false once `count` requests were hit" },
    created_at: { type: "string", format: "date-time" },
  },
} as const;

const hitSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    fault_id: { type: "integer" },
    method: { type: "string" },
    path: { type: "string" },
    status: nullable("integer"),
    latency_ms: { type: "integer" },
    at: { type: "string", format: "date-time" },
  },
} as const;

function toFault(fault: ApiFault) {
  return {
    id: fault.id,
    method: fault.method,
    path: fault.path,
    token_id: fault.tokenId,
    status: fault.status,
    retry_after: fault.retryAfter,
    latency_ms: fault.latencyMs,
    count: fault.count,
    fraction: fault.fraction,
    matched: fault.matched,
    hits: fault.hits,
    active: isFaultActive(fault),
    created_at: isoMillis(fault.createdAt),
  };
}

export const faultRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { faults: ApiFaults } }> = async (app, { faults }) => {
  app.addHook("onRequest", app.auth.authenticate(["integration-header", "bearer"]));
  const tags = ["openlinq: fault injection"];
  const errors = (...statuses: number[]) => errorResponses("render", statuses);

  app.get(
    "/faults",
    {
      schema: {
        tags,
        summary: "The organization's injected faults, oldest first, with their counters",
        response: { 200: { type: "object", properties: { faults: { type: "array", items: faultSchema } } }, ...errors() },
      },
    },
    async (request) => ({ faults: (await faults.list(request.caller.orgId)).map(toFault) }),
  );

  app.post(
    "/faults",
    {
      schema: {
        tags,
        summary: "Inject a fault into this organization's Linq API (V2 and V3 faces)",
        description:
          "Requests matching `method` and `path` (and `token`, when given) get `status` (in the face's own error " +
          "envelope, with Retry-After for 429) after `latency_ms`. `count` limits the requests hit; `fraction` hits " +
          "that share of matching requests, drawn from a stream seeded by OPENLINQ_RANDOM_SEED. In `path`, `*` matches " +
          "within one segment and `**` across segments. Each answer it shapes carries `X-OpenLinq-Fault: <id>`.",
        body: {
          type: "object",
          required: ["path"],
          additionalProperties: false,
          properties: {
            method: { type: "string", enum: [...new Set([...FAULT_METHODS, ...FAULT_METHODS.map((m) => m.toLowerCase())])] },
            path: { type: "string", minLength: 1, maxLength: 500, examples: ["/api/partner/v2/chats/*/chat_messages"] },
            token: { type: "string", minLength: 1, description: "Only requests with this integration token" },
            status: { type: "integer", enum: [...FAULT_STATUSES] },
            retry_after: { type: "integer", minimum: 0, maximum: 3600, description: "Seconds; 429 defaults to 1" },
            latency_ms: { type: "integer", minimum: 0, maximum: MAX_FAULT_LATENCY_MS },
            count: { type: "integer", minimum: 1, maximum: 1_000_000 },
            fraction: { type: "number", exclusiveMinimum: 0, maximum: 1 },
          },
        },
        response: { 201: { type: "object", properties: { fault: faultSchema } }, ...errors(400, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const fault = await faults.create(request.caller.orgId, {
        method: body.method,
        path: body.path,
        token: body.token,
        status: body.status,
        retryAfter: body.retry_after,
        latencyMs: body.latency_ms,
        count: body.count,
        fraction: body.fraction,
      });
      return reply.code(201).send({ fault: toFault(fault) });
    },
  );

  app.delete(
    "/faults/:fault_id",
    {
      schema: {
        tags,
        summary: "Turn one fault off",
        params: idParam("fault_id"),
        response: { 204: emptyBody, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      await faults.delete(request.caller.orgId, request.params.fault_id);
      return reply.code(204).send();
    },
  );

  app.delete(
    "/faults",
    {
      schema: {
        tags,
        summary: "Turn every fault of the organization off",
        response: { 200: { type: "object", properties: { deleted: { type: "integer" } } }, ...errors() },
      },
    },
    async (request) => ({ deleted: await faults.deleteAll(request.caller.orgId) }),
  );

  app.get(
    "/faults/hits",
    {
      schema: {
        tags,
        summary: "Requests faults changed, newest first (kept after a fault is deleted)",
        querystring: {
          type: "object",
          properties: { limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
        },
        response: { 200: { type: "object", properties: { hits: { type: "array", items: hitSchema } } }, ...errors(400) },
      },
    },
    async (request) => ({
      hits: (await faults.hits(request.caller.orgId, request.query.limit)).map((hit) => ({
        id: hit.id,
        fault_id: hit.faultId,
        method: hit.method,
        path: hit.path,
        status: hit.status,
        latency_ms: hit.latencyMs,
        at: isoMillis(hit.at),
      })),
    }),
  );
};
