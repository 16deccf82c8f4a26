import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { CoreDeps } from "../../core/deps.ts";
import { listPhoneNumbers, updateForwardingNumber } from "../../core/phone-numbers/phone-numbers.service.ts";
import { toV2PhoneNumber } from "./presenters.ts";
import { errorResponses, idParam, phoneNumberSchema } from "./schemas.ts";

export const phoneNumberRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  const tags = ["Phone Numbers"];
  app.get(
    "/phone_numbers",
    {
      schema: {
        tags,
        summary: "List your organization's phone numbers",
        response: {
          200: { type: "object", properties: { phone_numbers: { type: "array", items: phoneNumberSchema } } },
          ...errorResponses("render", []),
        },
      },
    },
    async (request) => ({
      phone_numbers: (await listPhoneNumbers(deps, request.caller.orgId)).map((n) => toV2PhoneNumber(n.number, n.user)),
    }),
  );

  app.put(
    "/phone_numbers/:id",
    {
      schema: {
        tags,
        summary: "Set or clear the call forwarding number (null or empty string clears it)",
        params: idParam("id"),
        body: {
          type: "object",
          required: ["forwarding_number"],
          properties: { forwarding_number: { type: ["string", "null"] } },
        },
        response: { 200: phoneNumberSchema, ...errorResponses("render", [400, 404, 422]) },
      },
    },
    async (request) => {
      const updated = await updateForwardingNumber(
        deps,
        request.caller.orgId,
        request.params.id,
        request.body.forwarding_number ?? null,
      );
      return toV2PhoneNumber(updated.number, updated.user);
    },
  );
};
