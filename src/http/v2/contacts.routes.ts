import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { FromSchema, JSONSchema } from "json-schema-to-ts";
import {
  createContact,
  deleteContact,
  findContact,
  getContact,
  listContacts,
  updateContact,
  type ContactInput,
} from "../../core/contacts/contacts.service.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DomainError } from "../../core/errors.ts";
import { contactFacts } from "../../core/events/domain-events.ts";
import type { Contact } from "../../core/model.ts";
import { contactObject as contactFactsObject } from "./webhook-payloads.ts";
import { clampPerPage } from "./chats.routes.ts";
import { contactSchema, errorResponses, idParam, noBody, pageQueryProperties, paginationSchema } from "./schemas.ts";

/** The REST Contact object: the same shape as the contact.* webhook data. */
const contactObject = (contact: Contact) => contactFactsObject(contactFacts(contact));

const contactFields = {
  first_name: { type: "string" },
  last_name: { type: "string" },
  email: { type: "string" },
  phone_number: { type: "string" },
  company: { type: "string" },
  title: { type: "string" },
  location: { type: "string" },
  user_email: { type: "string", description: "Owner; must be a user of your organization" },
} as const;

const contactBody = {
  type: "object",
  properties: {
    contact: { type: "object", properties: contactFields },
    user_email: contactFields.user_email,
  },
} as const;

type ContactBody = FromSchema<typeof contactBody>;

/** `user_email` may sit beside `contact` (OpenAPI) or inside it (reference pages); inside wins. */
function contactInput(body: ContactBody | undefined): ContactInput {
  if (!body?.contact || typeof body.contact !== "object") {
    throw new DomainError("validation_failed", "contact is required: send {\"contact\": {…}}", { field: "contact" });
  }
  return { ...body.contact, user_email: body.contact.user_email ?? body.user_email };
}

export const contactRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  const config = { errorShape: "standard" as const };
  const errors = (...statuses: number[]) => errorResponses("standard", statuses);
  const dataContact = { type: "object", properties: { data: contactSchema } } as const;
  const tags = ["Contacts"];

  app.get(
    "/contacts",
    {
      config,
      schema: {
        tags,
        summary: "List contacts",
        querystring: { type: "object", properties: pageQueryProperties },
        response: {
          200: {
            type: "object",
            properties: {
              contacts: { type: "array", items: contactSchema },
              pagination: paginationSchema,
            },
          },
          ...errors(400),
        },
      },
    },
    async (request) => {
      const page = request.query.page;
      const perPage = clampPerPage(request.query.per_page);
      const result = await listContacts(deps, request.caller.orgId, { page, perPage });
      return {
        contacts: result.items.map(contactObject),
        pagination: {
          current_page: page,
          per_page: perPage,
          total_pages: Math.ceil(result.total / perPage),
          total_count: result.total,
        },
      };
    },
  );

  app.post(
    "/contacts",
    {
      config,
      schema: { tags, summary: "Create a contact", body: contactBody, response: { 201: dataContact, ...errors(400, 422) } },
    },
    async (request, reply) => {
      const contact = await createContact(deps, request.caller.orgId, contactInput(request.body));
      return reply.code(201).send({ data: contactObject(contact) });
    },
  );

  app.get(
    "/contacts/find",
    {
      config,
      schema: {
        tags,
        summary: "Find a contact by email or phone number (any common format)",
        querystring: { type: "object", properties: { email: { type: "string" }, phone_number: { type: "string" } } },
        response: {
          // Typed as any schema: the body is sent pre-serialized (below), so its reply type stays open.
          200: {
            description: "The bare contact, or {\"contact\": null}",
            anyOf: [contactSchema, { type: "object", properties: { contact: { type: "null" } } }],
          } as JSONSchema,
          ...errors(400, 422),
        },
      },
    },
    async (request, reply) => {
      if (!request.query.email?.trim() && !request.query.phone_number?.trim()) {
        throw new DomainError("missing_parameter", "email or phone_number is required");
      }
      const contact = await findContact(deps, request.caller.orgId, request.query);
      // Two different 200 bodies: send them pre-serialized so neither branch is filtered.
      return reply
        .type("application/json")
        .send(JSON.stringify(contact ? contactObject(contact) : { contact: null }));
    },
  );

  app.get(
    "/contacts/:id",
    {
      config,
      schema: { tags, summary: "Get a contact", params: idParam("id"), response: { 200: dataContact, ...errors(404) } },
    },
    async (request) => ({ data: contactObject(await getContact(deps, request.caller.orgId, request.params.id)) }),
  );

  for (const method of ["PUT", "PATCH"] as const) {
    app.route({
      method,
      url: "/contacts/:id",
      config,
      schema: {
        tags,
        summary: method === "PUT" ? "Update a contact (only supplied fields change)" : "Partially update a contact",
        params: idParam("id"),
        body: contactBody,
        response: { 200: dataContact, ...errors(400, 404, 422) },
      },
      handler: async (request) => ({
        data: contactObject(
          await updateContact(deps, request.caller.orgId, request.params.id, contactInput(request.body)),
        ),
      }),
    });
  }

  app.delete(
    "/contacts/:id",
    {
      config,
      schema: {
        tags,
        summary: "Delete a contact",
        params: idParam("id"),
        response: { 204: noBody, ...errors(404) },
      },
    },
    async (request, reply) => {
      await deleteContact(deps, request.caller.orgId, request.params.id);
      return reply.code(204).send();
    },
  );
};
