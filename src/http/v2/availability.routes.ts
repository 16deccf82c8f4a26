import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { CoreDeps } from "../../core/deps.ts";
import { checkIMessageAvailability } from "../../core/phone-numbers/phone-numbers.service.ts";
import { errorResponses } from "./schemas.ts";

export const availabilityRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  app.post(
    "/i_message_availability/check",
    {
      // Linq allows one check per 10 seconds; the same limit applies here, per token.
      config: {
        routeRateLimit: {
          points: 1,
          seconds: 10,
          message: "Rate limit exceeded. Please try again after 10 seconds.",
        },
      },
      schema: {
        tags: ["Utilities"],
        summary: "Check whether a number or email can receive iMessage (1 request per 10 s)",
        body: { type: "object", required: ["phone_number"], properties: { phone_number: { type: "string" } } },
        response: {
          200: {
            type: "object",
            properties: { available: { type: "boolean" }, phone_number: { type: "string" } },
          },
          ...errorResponses("render", [400, 422]),
        },
      },
    },
    async (request) => {
      const result = await checkIMessageAvailability(deps, request.caller.orgId, request.body.phone_number);
      return { available: result.available, phone_number: result.phoneNumber };
    },
  );
};
