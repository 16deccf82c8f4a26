import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import { revokeToken } from "../../core/accounts/accounts.service.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { isoMillis } from "../../core/time.ts";
import { emptyBody, errorResponses, idParam } from "../v2/schemas.ts";

/**
 * /openlinq/v1/tokens: the organization's integration tokens, and revoking one. Only a keyed
 * hash of each token is stored, so the list shows ids, labels and dates, never a token.
 * Creating tokens stays with the CLI (`openlinq tokens create`), like Linq's own provisioning.
 */

const tokenSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    label: { type: "string", description: "Where it came from: cli, first start, OPENLINQ_TOKEN" },
    current: { type: "boolean", description: "true for the token this request was made with" },
    created_at: { type: "string", format: "date-time" },
  },
} as const;

export const tokenRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  app.addHook("onRequest", app.auth.authenticate(["integration-header", "bearer"]));
  const tags = ["openlinq: tokens"];
  const errors = (...statuses: number[]) => errorResponses("render", statuses);

  app.get(
    "/tokens",
    {
      schema: {
        tags,
        summary: "The organization's integration tokens, oldest first (never the tokens themselves)",
        response: { 200: { type: "object", properties: { tokens: { type: "array", items: tokenSchema } } }, ...errors() },
      },
    },
    async (request) => ({
      tokens: (await deps.store.read.tokens.list(request.caller.orgId)).map((token) => ({
        id: token.id,
        label: token.label,
        current: token.id === request.caller.tokenId,
        created_at: isoMillis(token.createdAt),
      })),
    }),
  );

  app.delete(
    "/tokens/:token_id",
    {
      schema: {
        tags,
        summary: "Revoke a token: every node refuses it from now on (the one making this request included)",
        description:
          "The token's row is deleted and every node on the database drops it from its cache at once (on Postgres " +
          "through LISTEN/NOTIFY; should a node miss the notice, within 60 s). A token set with OPENLINQ_TOKEN is " +
          "made valid again by the next start that sets it.",
        params: idParam("token_id"),
        response: { 204: emptyBody, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      await revokeToken(deps, request.caller.orgId, request.params.token_id);
      await app.auth.revoked(request.params.token_id);
      return reply.code(204).send();
    },
  );
};
