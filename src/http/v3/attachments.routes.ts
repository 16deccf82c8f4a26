import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { JSONSchema } from "json-schema-to-ts";
import { loadChatByUuid } from "../../core/chats/chat-loading.ts";
import { requireActiveChat } from "../../core/chats/group-chats.service.ts";
import { requestLocation } from "../../core/chats/chats.service.ts";
import {
  createUpload,
  deleteAttachment,
  getAttachmentInfo,
  receiveUpload,
  UPLOAD_CONTENT_TYPES,
  MAX_UPLOAD_BYTES,
} from "../../core/attachments/uploads.service.ts";
import { createContactCard, listContactCards, updateContactCard } from "../../core/contacts/contact-cards.service.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { DomainError } from "../../core/errors.ts";
import { sendMessage } from "../../core/messages/messages.service.ts";
import type { ContactCard } from "../../core/model.ts";
import { isoMillis } from "../../core/time.ts";
import { requireE164 } from "./handles.ts";
import { toV3Handle } from "./presenters.ts";
import { errorResponses, idParams } from "./schemas.ts";

const attachmentSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    filename: { type: "string" },
    content_type: { type: "string" },
    size_bytes: { type: "integer" },
    created_at: { type: "string", format: "date-time" },
    status: { type: "string", enum: ["pending", "complete", "failed"] },
    download_url: { type: "string" },
  },
} as const;

const contactCardSchema = {
  type: "object",
  properties: {
    phone_number: { type: "string" },
    first_name: { type: "string" },
    last_name: { type: ["string", "null"] },
    image_url: { type: ["string", "null"] },
    is_active: { type: "boolean" },
  },
} as const;

const toV3ContactCard = (card: ContactCard) => ({
  phone_number: card.phoneNumber,
  first_name: card.firstName,
  last_name: card.lastName,
  image_url: card.imageUrl,
  is_active: card.isActive,
});

/** Where an upload's bytes go: a one-time URL of this server, its secret in the path. */
export const uploadPath = (id: string, secret: string) => `/openlinq/v1/uploads/${id}/${secret}`;

export const attachmentRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps; baseUrl: () => string } }> = async (app, { deps, baseUrl }) => {
  const downloadUrl = (id: string, filename: string) => deps.links.attachmentUrl(id, filename);

  app.post(
    "/attachments",
    {
      schema: {
        tags: ["attachments"],
        summary: "Announce a file and get a URL to upload it to (valid 15 minutes, up to 100 MB)",
        body: {
          type: "object",
          required: ["filename", "content_type", "size_bytes"],
          properties: {
            filename: { type: "string" },
            content_type: { type: "string", enum: UPLOAD_CONTENT_TYPES as string[] },
            size_bytes: { type: "integer", minimum: 1, maximum: MAX_UPLOAD_BYTES },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              attachment_id: { type: "string" },
              upload_url: { type: "string" },
              http_method: { type: "string" },
              required_headers: { type: "object", additionalProperties: { type: "string" } },
              download_url: { type: "string" },
              expires_at: { type: "string", format: "date-time" },
            },
          },
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const { upload, secret } = await createUpload(deps, request.caller.orgId, {
        filename: request.body.filename,
        contentType: request.body.content_type,
        sizeBytes: request.body.size_bytes,
      });
      return {
        attachment_id: upload.id,
        upload_url: `${baseUrl()}${uploadPath(upload.id, secret)}`,
        http_method: "PUT",
        required_headers: { "Content-Type": upload.contentType },
        download_url: downloadUrl(upload.id, upload.filename),
        expires_at: isoMillis(upload.expiresAt),
      };
    },
  );

  const attachmentParams = idParams("attachmentId");
  const present = async (orgId: number, id: string) => {
    const info = await getAttachmentInfo(deps, orgId, id);
    return {
      id: info.id,
      filename: info.filename,
      content_type: info.contentType,
      size_bytes: info.sizeBytes,
      created_at: isoMillis(info.createdAt),
      status: info.status,
      ...(info.status === "complete" ? { download_url: downloadUrl(info.id, info.filename) } : {}),
    };
  };

  app.get(
    "/attachments/:attachmentId",
    {
      schema: {
        tags: ["attachments"],
        summary: "Get an attachment",
        params: attachmentParams,
        response: { 200: attachmentSchema, ...errorResponses([404]) },
      },
    },
    async (request) => present(request.caller.orgId, request.params.attachmentId),
  );

  app.put(
    "/attachments/:attachmentId",
    {
      schema: {
        tags: ["attachments"],
        summary: "Legacy status update (accepted, changes nothing: the upload itself sets the status)",
        deprecated: true,
        params: attachmentParams,
        body: { type: "object", properties: { status: { type: "string", enum: ["pending", "complete", "failed"] } } },
        response: { 200: attachmentSchema, ...errorResponses([404]) },
      },
    },
    async (request) => present(request.caller.orgId, request.params.attachmentId),
  );

  app.delete(
    "/attachments/:attachmentId",
    {
      schema: {
        tags: ["attachments"],
        summary: "Delete an attachment for good",
        params: attachmentParams,
        // Typed as any schema so the 204 goes out with `send()` and no body (see noContent).
        response: { 204: { type: "null" } as JSONSchema, ...errorResponses([404]) },
      },
    },
    async (request, reply) => {
      const { attachmentId } = request.params;
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(attachmentId)) {
        throw new DomainError("validation_failed", "attachmentId must be a UUID", {
          field: "attachmentId",
          reason: " must be a UUID",
        });
      }
      await deleteAttachment(deps, request.caller.orgId, attachmentId);
      return reply.code(204).send();
    },
  );

  app.post(
    "/chats/:chatId/voicememo",
    {
      schema: {
        tags: ["chats"],
        summary: "Send a voice memo (an audio file by URL or uploaded attachment)",
        params: idParams("chatId"),
        body: { type: "object", properties: { voice_memo_url: { type: "string" }, attachment_id: { type: "string" } } },
        response: {
          202: {
            type: "object",
            properties: {
              voice_memo: {
                type: "object",
                properties: {
                  id: { type: "string" },
                  from: { type: "string" },
                  to: { type: "array", items: { type: "string" } },
                  status: { type: "string" },
                  service: { type: ["string", "null"] },
                  created_at: { type: "string", format: "date-time" },
                  chat: {
                    type: "object",
                    properties: {
                      id: { type: "string" },
                      handles: { type: "array", items: { type: "object", additionalProperties: true } },
                      is_active: { type: "boolean" },
                      is_group: { type: "boolean" },
                      service: { type: "string" },
                    },
                  },
                  voice_memo: {
                    type: "object",
                    properties: {
                      id: { type: "string" },
                      filename: { type: "string" },
                      mime_type: { type: "string" },
                      size_bytes: { type: "integer" },
                      url: { type: "string" },
                      duration_ms: { type: ["integer", "null"] },
                    },
                  },
                },
              },
            },
          },
          ...errorResponses([404, 409]),
        },
      },
    },
    async (request, reply) => {
      const { voice_memo_url: url, attachment_id: attachmentId } = request.body ?? {};
      if ((url === undefined) === (attachmentId === undefined)) {
        throw new DomainError("missing_parameter", "voice_memo_url or attachment_id is required (exactly one)", {
          field: "voice_memo_url",
          reason: " or attachment_id is required (exactly one)",
        });
      }
      const chat = requireActiveChat(await loadChatByUuid(deps.store.read, request.caller.orgId, request.params.chatId));
      const part = url !== undefined ? { type: "media" as const, url } : { type: "media" as const, attachmentId: attachmentId! };
      const result = await sendMessage(deps, request.caller.orgId, chat.chat.id, {
        text: "",
        uploads: [],
        attachmentUrls: url !== undefined ? [url] : [],
        parts: [part],
        audioOnly: true,
      });
      const audio = result.message.attachments[0]!;
      const sent = result.chat;
      return reply.code(202).send({
        voice_memo: {
          id: result.message.message.uuid,
          from: sent.phoneNumber,
          to: sent.handles.filter((h) => !h.isMe && h.leftAt === null).map((h) => h.handle),
          status: "queued",
          service: sent.chat.service,
          created_at: isoMillis(result.message.message.sentAt),
          chat: {
            id: sent.chat.uuid,
            handles: sent.handles.map(toV3Handle),
            is_active: true,
            is_group: sent.chat.isGroup,
            service: sent.chat.service,
          },
          voice_memo: {
            id: audio.id,
            filename: audio.filename,
            mime_type: audio.mimeType,
            size_bytes: audio.fileSize,
            url: downloadUrl(audio.id, audio.filename),
            duration_ms: null,
          },
        },
      });
    },
  );

  app.get(
    "/contact_card",
    {
      schema: {
        tags: ["contact card"],
        summary: "Contact cards of your lines",
        querystring: { type: "object", properties: { phone_number: { type: "string" } } },
        response: {
          200: { type: "object", properties: { contact_cards: { type: "array", items: contactCardSchema } } },
          ...errorResponses([403]),
        },
      },
    },
    async (request) => {
      const { phone_number: phoneNumber } = request.query;
      if (phoneNumber !== undefined) requireE164(phoneNumber, "phone_number");
      return { contact_cards: (await listContactCards(deps, request.caller.orgId, phoneNumber)).map(toV3ContactCard) };
    },
  );

  app.post(
    "/contact_card",
    {
      schema: {
        tags: ["contact card"],
        summary: "Set up the contact card of a line",
        body: {
          type: "object",
          required: ["phone_number", "first_name"],
          properties: {
            phone_number: { type: "string" },
            first_name: { type: "string" },
            last_name: { type: "string" },
            image_url: { type: "string" },
          },
        },
        response: { 200: contactCardSchema, ...errorResponses([403, 409]) },
      },
    },
    async (request) => {
      const { body } = request;
      requireE164(body.phone_number, "phone_number");
      const card = await createContactCard(deps, request.caller.orgId, body.phone_number, {
        firstName: body.first_name,
        lastName: body.last_name,
        imageUrl: body.image_url,
      });
      return toV3ContactCard(card);
    },
  );

  app.patch(
    "/contact_card",
    {
      schema: {
        tags: ["contact card"],
        summary: "Change the contact card of a line",
        querystring: { type: "object", required: ["phone_number"], properties: { phone_number: { type: "string" } } },
        body: {
          type: "object",
          properties: { first_name: { type: "string" }, last_name: { type: "string" }, image_url: { type: "string" } },
        },
        response: { 200: contactCardSchema, ...errorResponses([403, 404]) },
      },
    },
    async (request) => {
      requireE164(request.query.phone_number, "phone_number");
      const body = request.body ?? {};
      const card = await updateContactCard(deps, request.caller.orgId, request.query.phone_number, {
        firstName: body.first_name,
        lastName: body.last_name,
        imageUrl: body.image_url,
      });
      return toV3ContactCard(card);
    },
  );

  app.post(
    "/chats/:chatId/location/request",
    {
      schema: {
        tags: ["chats"],
        summary: "Ask the other participant to share their location (direct iMessage chats)",
        params: idParams("chatId"),
        response: {
          200: { type: "object", properties: { success: { type: "boolean" }, message: { type: "string" } } },
          ...errorResponses([404, 409]),
        },
      },
    },
    async (request) => {
      const chat = requireActiveChat(await loadChatByUuid(deps.store.read, request.caller.orgId, request.params.chatId));
      await requestLocation(deps, request.caller.orgId, chat);
      return { success: true, message: "Location request sent" };
    },
  );

  app.get(
    "/chats/:chatId/location",
    {
      schema: {
        tags: ["chats"],
        summary: "Locations shared in the chat (GeoJSON)",
        params: idParams("chatId"),
        response: {
          200: {
            type: "object",
            properties: {
              success: { type: "boolean" },
              data: {
                type: "object",
                properties: { type: { type: "string" }, features: { type: "array", items: { type: "object" } } },
              },
            },
          },
          ...errorResponses([404]),
        },
      },
    },
    async (request) => {
      await loadChatByUuid(deps.store.read, request.caller.orgId, request.params.chatId);
      // Simulated devices never share their location.
      return { success: true, data: { type: "FeatureCollection", features: [] } };
    },
  );
};

/**
 * Receives the bytes of an announced upload (PUT to its upload URL, no token: the URL is the
 * secret). The body streams to disk; it is never held in memory whole.
 */
export const uploadReceiverRoute: FastifyPluginAsyncJsonSchemaToTs<{ Options: { deps: CoreDeps } }> = async (app, { deps }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
  app.put(
    "/uploads/:id/:secret",
    {
      schema: {
        tags: ["openlinq"],
        summary: "Upload the bytes of an announced attachment (the URL from POST /v3/attachments)",
        params: {
          type: "object",
          required: ["id", "secret"],
          properties: { id: { type: "string" }, secret: { type: "string" } },
        },
        response: { 200: { type: "object", properties: { id: { type: "string" }, status: { type: "string" } } } },
      },
    },
    async (request) => {
      const body = request.body as AsyncIterable<Uint8Array> | undefined;
      const upload = await receiveUpload(deps, {
        id: request.params.id,
        secret: request.params.secret,
        contentType: request.headers["content-type"],
        body: body ?? (async function* () {})(),
      });
      return { id: upload.id, status: upload.status };
    },
  );
};
