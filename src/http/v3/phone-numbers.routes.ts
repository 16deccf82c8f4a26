import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DomainError } from "../../core/errors.ts";
import { normalizeHandle } from "../../core/handles.ts";
import { chooseLine } from "../../core/messages/line-selection.service.ts";
import { listPhoneNumbers, updateForwardingNumber } from "../../core/phone-numbers/phone-numbers.service.ts";
import type { PhoneNumber } from "../../core/model.ts";
import { requireE164, requireHandle } from "./handles.ts";
import { errorResponses, idParams } from "./schemas.ts";

const REPUTATION_DOC_URL = "https://docs.linqapp.com/guides/line-reputation";

const reputationSchema = {
  type: "object",
  properties: { status: { type: "string", enum: ["HEALTHY", "AT_RISK", "CRITICAL"] }, doc_url: { type: "string" } },
} as const;

const lineSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    phone_number: { type: "string" },
    forwarding_number: { type: ["string", "null"] },
    reputation: reputationSchema,
    health_status: reputationSchema,
  },
} as const;

/** The reputation the network gives the line (see POST /openlinq/v1/simulate/line_status). */
function toV3Line(number: PhoneNumber) {
  const reputation = { status: number.reputation, doc_url: REPUTATION_DOC_URL };
  return {
    id: number.uuid,
    phone_number: number.phoneNumber,
    forwarding_number: number.forwardingNumber,
    reputation,
    health_status: reputation,
  };
}

/** Where the vCard of a line is served (an unguessable path, like attachment links). */
export function lineVcardPath(number: PhoneNumber): string {
  return `/openlinq/v1/lines/${number.uuid}/contact.vcf`;
}

export const phoneNumberRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps; baseUrl: () => string } }> = async (app, { deps, baseUrl }) => {
  app.get(
    "/phone_numbers",
    {
      schema: {
        tags: ["phone numbers"],
        summary: "List your lines",
        response: {
          200: { type: "object", properties: { phone_numbers: { type: "array", items: lineSchema } } },
          ...errorResponses(),
        },
      },
    },
    async (request) => ({
      phone_numbers: (await listPhoneNumbers(deps, request.caller.orgId)).map(({ number }) => toV3Line(number)),
    }),
  );

  app.put(
    "/phone_numbers/:phoneNumberId",
    {
      schema: {
        tags: ["phone numbers"],
        summary: "Set or clear the number inbound calls are forwarded to",
        params: idParams("phoneNumberId"),
        body: { type: "object", properties: { forwarding_number: { type: ["string", "null"] } } },
        response: {
          200: {
            type: "object",
            properties: {
              id: { type: "string" },
              phone_number: { type: "string" },
              forwarding_number: { type: ["string", "null"] },
            },
          },
          ...errorResponses([404]),
        },
      },
    },
    async (request) => {
      const forwarding = request.body?.forwarding_number ?? null;
      if (forwarding !== null && forwarding !== "") requireE164(forwarding, "forwarding_number");
      const line = await deps.store.read.phoneNumbers.findByUuid(request.caller.orgId, request.params.phoneNumberId);
      if (!line) throw new DomainError("phone_number_not_found", "Phone number not found (use the line's id, not the number)");
      const { number } = await updateForwardingNumber(deps, request.caller.orgId, line.id, forwarding);
      return { id: number.uuid, phone_number: number.phoneNumber, forwarding_number: number.forwardingNumber };
    },
  );

  app.get(
    "/phonenumbers",
    {
      schema: {
        tags: ["phone numbers"],
        summary: "List your lines (deprecated shape)",
        deprecated: true,
        response: {
          200: {
            type: "object",
            properties: {
              phone_numbers: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    id: { type: "string" },
                    phone_number: { type: "string" },
                    capabilities: {
                      type: "object",
                      properties: { sms: { type: "boolean" }, mms: { type: "boolean" }, voice: { type: "boolean" } },
                    },
                    country_code: { type: "null" },
                    type: { type: "null" },
                  },
                },
              },
            },
          },
          ...errorResponses(),
        },
      },
    },
    async (request) => ({
      phone_numbers: (await listPhoneNumbers(deps, request.caller.orgId)).map(({ number }) => ({
        id: number.uuid,
        phone_number: number.phoneNumber,
        capabilities: { sms: true, mms: true, voice: true },
        country_code: null,
        type: null,
      })),
    }),
  );

  app.get(
    "/available_number",
    {
      schema: {
        tags: ["phone numbers"],
        summary: "The line to use for these recipients (advisory, nothing is reserved)",
        querystring: { type: "object", properties: { to: { type: "array", items: { type: "string" } } } },
        response: {
          200: { type: "object", properties: { phone_number: { type: "string" }, vcf_url: { type: "string" } } },
          ...errorResponses([403]),
        },
      },
    },
    async (request) => {
      // The official client sends `to=a,b`; others repeat the parameter. Both arrive here.
      const to = (request.query.to ?? []).flatMap((value) => value.split(",")).filter((v) => v !== "");
      to.forEach((handle, i) => requireHandle(handle, `to[${i}]`));
      const recipients = to.map((handle, i) => normalizeHandle(handle, `recipients[${i}]`));
      const { number } = await chooseLine(deps, request.caller.orgId, recipients);
      return { phone_number: number.phoneNumber, vcf_url: `${baseUrl()}${lineVcardPath(number)}` };
    },
  );

  for (const service of ["imessage", "rcs"] as const) {
    app.post(
      `/capability/check_${service}`,
      {
        schema: {
          tags: ["capability"],
          summary: service === "imessage" ? "Whether an address can receive iMessage" : "Whether an address can receive RCS",
          body: {
            type: "object",
            required: ["address"],
            properties: { address: { type: "string" }, from: { type: "string" } },
          },
          response: {
            200: { type: "object", properties: { address: { type: "string" }, available: { type: "boolean" } } },
            ...errorResponses([403]),
          },
        },
      },
      async (request) => {
        const { address, from } = request.body;
        requireHandle(address, "address");
        const orgId = request.caller.orgId;
        if (from !== undefined) {
          requireE164(from, "from");
          if (!(await deps.store.read.phoneNumbers.findByNumber(orgId, from))) {
            throw new DomainError("sender_not_owned", `from: ${from} is not a phone number of your organization`, {
              field: "from",
              reason: `: ${from} is not a phone number of your organization`,
            });
          }
        }
        const normalized = normalizeHandle(address, "address");
        const available =
          service === "imessage"
            ? await deps.transport.supportsIMessage(orgId, normalized)
            : (await deps.transport.serviceFor(orgId, [normalized])) === "RCS";
        return { address, available };
      },
    );
  }
};

/** The vCard of a line (vcf_url of available_number): the line first, the org's other lines as backups. */
export const lineVcardRoute: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  app.get(
    "/lines/:id/contact.vcf",
    {
      schema: {
        tags: ["openlinq"],
        summary: "vCard of a line (unguessable URL, no token)",
        params: { type: "object", required: ["id"], properties: { id: { type: "string" } } },
        response: { 200: { type: "string" } },
      },
    },
    async (request, reply) => {
      const line = await deps.store.read.phoneNumbers.findByUuidAnyOrg(request.params.id);
      if (!line) throw new DomainError("phone_number_not_found", "Phone number not found");
      const others = (await deps.store.read.phoneNumbers.listByOrg(line.orgId)).filter((n) => n.id !== line.id);
      const card = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        `FN:${line.phoneNumber}`,
        `TEL;TYPE=CELL,PREF:${line.phoneNumber}`,
        ...others.map((n) => `TEL;TYPE=CELL:${n.phoneNumber}`),
        "END:VCARD",
        "",
      ].join("\r\n");
      return reply.type("text/vcard; charset=utf-8").send(card);
    },
  );
};
