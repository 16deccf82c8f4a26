import type { FastifyReply, FastifyRequest } from "fastify";
import { DomainError, type ErrorCode } from "../core/errors.ts";

/**
 * V2 has two error envelopes, fixed per resource (v2.md §1.7):
 * - render_error:   {"errors":[{"status","code","title","detail"}]}
 * - standard:       {"status":"error","error_code","message","errors":[…]}
 * Each route names its shape in `config.errorShape`; everything unnamed uses render_error.
 */
export type ErrorShape = "render" | "standard";

declare module "fastify" {
  interface FastifyContextConfig {
    errorShape?: ErrorShape;
  }
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

const RENDER_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  414: "uri_too_long",
  415: "unsupported_media_type",
  422: "unprocessable_entity",
  429: "rate_limited",
  500: "internal_server_error",
  502: "bad_gateway",
  503: "service_unavailable",
};

/** The one mapping from domain codes to HTTP statuses; exhaustive by construction. */
export function statusFor(code: ErrorCode): number {
  switch (code) {
    case "bad_request":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
      return 403;
    case "chat_not_found":
    case "message_not_found":
    case "reaction_not_found":
    case "contact_not_found":
    case "phone_number_not_found":
    case "webhook_subscription_not_found":
    case "event_not_found":
    case "handle_not_found":
    case "attachment_not_found":
    case "fault_not_found":
      return 404;
    case "conflict":
      return 409;
    case "attachment_too_large":
    case "payload_too_large":
      return 413;
    case "unsupported_media_type":
      return 415;
    case "validation_failed":
    case "invalid_phone_number":
    case "user_not_found":
    case "sender_not_owned":
    case "attachment_download_failed":
    case "attachment_type_not_allowed":
    case "url_not_allowed":
      return 422;
    case "rate_limited":
      return 429;
    case "internal":
      return 500;
  }
}

/** SCREAMING_SNAKE code of the standard envelope. */
function standardCodeFor(status: number, code: ErrorCode | undefined): string {
  if (code === "contact_not_found") return "CONTACT_NOT_FOUND";
  if (code === "webhook_subscription_not_found") return "WEBHOOK_SUBSCRIPTION_NOT_FOUND";
  if (code === "user_not_found") return "USER_NOT_FOUND";
  if (code && code.endsWith("_not_found")) return code.toUpperCase();
  if (status === 422) return "VALIDATION_ERROR";
  if (status === 429) return "RATE_LIMITED";
  return (RENDER_CODES[status] ?? "internal_server_error").toUpperCase();
}

export interface ErrorBodyInput {
  status: number;
  detail: string;
  code?: ErrorCode | undefined;
  /** Overrides the standard envelope's error_code (e.g. MISSING_PARAMETERS). */
  standardCode?: string | undefined;
}

export function errorBody(shape: ErrorShape, input: ErrorBodyInput): Record<string, unknown> {
  const title = TITLES[input.status] ?? "Error";
  if (shape === "standard") {
    return {
      status: "error",
      error_code: input.standardCode ?? standardCodeFor(input.status, input.code),
      message: input.detail,
      errors: [input.detail],
    };
  }
  return {
    errors: [
      {
        status: input.status,
        code: RENDER_CODES[input.status] ?? "error",
        title,
        detail: input.detail,
      },
    ],
  };
}

export function shapeOf(request: FastifyRequest): ErrorShape {
  return request.routeOptions?.config?.errorShape ?? "render";
}

export function sendError(request: FastifyRequest, reply: FastifyReply, input: ErrorBodyInput): FastifyReply {
  return reply.code(input.status).type("application/json").send(errorBody(shapeOf(request), input));
}

export function domainErrorInput(error: DomainError): ErrorBodyInput {
  const standardCode = typeof error.details?.standardCode === "string" ? error.details.standardCode : undefined;
  return { status: statusFor(error.code), detail: error.message, code: error.code, standardCode };
}
