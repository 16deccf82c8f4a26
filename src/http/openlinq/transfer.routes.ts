import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { ActivityFeed } from "../../core/ports.ts";
import { sandboxFileToJson } from "../../core/transfer/sandbox-file.ts";
import { exportSandbox, importSandbox, type TransferDeps } from "../../core/transfer/sandbox-transfer.service.ts";
import { errorResponses } from "../v2/schemas.ts";

/**
 * /openlinq/v1/export and /openlinq/v1/import: the caller's organization as a sandbox file
 * (src/core/transfer/sandbox-file.ts), and that file loaded into an empty organization.
 * Integration-token auth, render_error envelope like the rest of /openlinq/v1.
 */

/** A sandbox file carries its attachments inline (base64): far more than an API request. */
export const IMPORT_BODY_LIMIT = 512 * 1024 * 1024;

export const transferRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { transfer: TransferDeps; activity: ActivityFeed } }> = async (app, { transfer, activity }) => {
  app.addHook("onRequest", app.auth.authenticate(["integration-header", "bearer"]));
  const tags = ["openlinq: sandbox export and import"];
  const errors = (...statuses: number[]) => errorResponses("render", statuses);
  const anyObject = { type: "object", additionalProperties: true } as const;

  app.get(
    "/export",
    {
      schema: {
        tags,
        summary: "This organization's state as a sandbox file (version 1)",
        description:
          "Chats, messages, attachments (bytes as base64), reactions, contacts, contact cards, simulator profiles, calls, " +
          "phone numbers, users and webhook subscriptions, with their ids. Subscriptions' secrets are left out (null) " +
          "unless `secrets=true`. Tokens, the delivery log and queued work are not carried.",
        querystring: { type: "object", properties: { secrets: { type: "boolean", default: false } } },
        response: { 200: anyObject, ...errors(400) },
      },
    },
    async (request, reply) => {
      const file = await exportSandbox(transfer, { orgIds: [request.caller.orgId], secrets: request.query.secrets });
      return reply.header("content-disposition", 'attachment; filename="sandbox.json"').send(sandboxFileToJson(file));
    },
  );

  app.post(
    "/import",
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags,
        summary: "Load a sandbox file (one organization) into this organization, which must be empty",
        description:
          "The whole file is checked first (422 listing its problems); an organization with chats, messages, contacts, " +
          "webhook subscriptions, profiles, calls or contact cards, or ids the file names already in the store, give " +
          "409. Then everything is written in one transaction, ids kept: this organization's users and phone numbers " +
          "become the file's, its tokens stay.",
        body: anyObject,
        response: {
          201: {
            type: "object",
            properties: {
              imported: {
                type: "object",
                properties: {
                  chats: { type: "integer" },
                  messages: { type: "integer" },
                  attachments: { type: "integer" },
                  contacts: { type: "integer" },
                  webhook_subscriptions: { type: "integer" },
                },
              },
            },
          },
          ...errors(400, 409, 413, 422),
        },
      },
    },
    async (request, reply) => {
      const orgId = request.caller.orgId;
      const summary = await importSandbox(transfer, request.body, { intoOrgId: orgId });
      activity.publish({ orgId, kind: "reset" });
      const { id: _id, ...imported } = summary.organizations[0]!;
      return reply.code(201).send({ imported });
    },
  );
};
