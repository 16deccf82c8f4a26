import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DomainError, type ErrorCode } from "../core/errors.ts";
import { MULTIPART_LIMITS } from "./plugins/multipart.ts";

/**
 * Faces and their errors. Every failure a route can meet — a DomainError from core, a schema
 * (AJV) failure, a body parser refusal, a 404, an auth or rate-limit refusal, an unknown
 * error — is first turned into a face-neutral `Problem` (`problemOf`), then rendered by the
 * face that owns the route. A face registers its renderer once, inside its encapsulated
 * plugin, with `registerFaceErrors`; routes outside any face (the openlinq endpoints, the
 * sandbox, the inbox) use `renderOpenlinqProblem`, registered at the root.
 */
export interface Problem {
  /** The generic HTTP status (`statusFor(code)` for domain failures); a face may choose another. */
  status: number;
  /** The domain code; absent for transport-level failures known only by status (unknown route, 405). */
  code?: ErrorCode | undefined;
  message: string;
  /** Domain path of the input at fault (see ErrorDetails in core/errors.ts). */
  field?: string | undefined;
  /** `message` without the field, when `field` is set: a face renders `wireName(field) + reason`. */
  reason?: string | undefined;
  /** Seconds until a rate-limited caller may retry. */
  retryAfter?: number | undefined;
}

export type ProblemRenderer = (request: FastifyRequest, reply: FastifyReply, problem: Problem) => FastifyReply;

/** Body limits, for messages that name them. */
export interface BodyLimits {
  jsonBytes: number;
  attachmentBytes: number;
}

/** The generic status of each domain code (V2 and the openlinq faces use it as is); exhaustive. */
export function statusFor(code: ErrorCode): number {
  switch (code) {
    case "bad_request":
    case "missing_parameter":
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
    case "scenario_not_found":
    case "token_not_found":
    case "listener_not_found":
    case "contact_card_not_found":
      return 404;
    case "conflict":
    case "app_card_requires_imessage":
    case "chat_unavailable":
    case "contact_card_exists":
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
    case "invalid_message_content":
    case "invalid_app_card":
    case "message_type_not_supported":
    case "direct_chat_not_supported":
    case "group_chat_not_supported":
    case "service_not_supported":
    case "attachment_not_ready":
    case "content_type_mismatch":
      return 422;
    case "rate_limited":
      return 429;
    case "internal":
      return 500;
  }
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

export function domainProblem(error: DomainError): Problem {
  const details = error.details;
  return {
    status: statusFor(error.code),
    code: error.code,
    message: error.message,
    field: details?.field,
    reason: details?.field !== undefined ? details.reason : undefined,
    retryAfter: details?.retryAfter,
  };
}

/** Classifies anything a route or hook threw; unknown errors are logged with the request id. */
export function problemOf(error: unknown, request: FastifyRequest, limits: BodyLimits): Problem {
  if (error instanceof DomainError) return domainProblem(error);
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return {
      status: 400,
      code: "bad_request",
      message: `${fastifyError.validationContext ?? "request"}${fastifyError.message.replace(/^(body|querystring|params|headers)/, "")}`,
    };
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 413 || fastifyError.code === "FST_REQ_FILE_TOO_LARGE") {
    return {
      status: 413,
      code: "payload_too_large",
      message:
        fastifyError.code === "FST_REQ_FILE_TOO_LARGE"
          ? `An attachment is larger than the limit of ${limits.attachmentBytes} bytes`
          : fastifyError.code === "FST_FIELDS_LIMIT" || fastifyError.code === "FST_PARTS_LIMIT"
            ? `Too many form fields: at most ${MULTIPART_LIMITS.fields} per request`
            : `Request body is larger than the limit of ${limits.jsonBytes} bytes; send files as multipart/form-data`,
    };
  }
  if (status >= 400 && status < 500) {
    const message =
      fastifyError.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError
        ? "Malformed JSON body"
        : fastifyError.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
          ? `Unsupported Content-Type ${request.headers["content-type"] ?? ""}; send application/json or multipart/form-data`
          : fastifyError.message;
    return { status, code: STATUS_CODES[status], message };
  }
  request.log.error({ err: error, reqId: request.id }, "unhandled error");
  return { status: 500, code: "internal", message: `Internal server error (request ${request.id})` };
}

export function routeNotFoundProblem(request: FastifyRequest): Problem {
  return { status: 404, message: `No route for ${request.method} ${request.url.split("?")[0]}` };
}

declare module "fastify" {
  interface FastifyInstance {
    /** Set by createHttpServer; read by every face's error handler. */
    bodyLimits: BodyLimits;
  }
}

/**
 * Makes `render` the error and not-found handler of the face plugin `app` (call it inside the
 * face's encapsulated plugin, before its routes). Schema failures, body parser errors and
 * refusals thrown by the auth and rate-limit hooks all reach it.
 */
export function registerFaceErrors(app: FastifyInstance, render: ProblemRenderer): void {
  app.setErrorHandler((error, request, reply) => render(request, reply, problemOf(error, request, app.bodyLimits)));
  app.setNotFoundHandler((request, reply) => render(request, reply, routeNotFoundProblem(request)));
}

/** `recipients[2]` → `recipients[2]`, `message.idempotencyKey` → `message.idempotency_key`. */
export function snakeCaseField(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The wire name of a domain field path: the longest renamed prefix (ending at a `.` or `[`
 * boundary) is replaced, the rest snake_cased. A prefix renamed to "" drops its dot, so
 * `{message: ""}` turns `message.text` into `text`.
 */
export function wireFieldName(field: string, renames: Readonly<Record<string, string>> = {}): string {
  let best: string | undefined;
  for (const key of Object.keys(renames)) {
    const matches = field === key || field.startsWith(`${key}.`) || field.startsWith(`${key}[`);
    if (matches && (best === undefined || key.length > best.length)) best = key;
  }
  if (best === undefined) return snakeCaseField(field);
  let rest = field.slice(best.length);
  const head = renames[best]!;
  if (head === "" && rest.startsWith(".")) rest = rest.slice(1);
  return head + snakeCaseField(rest);
}

/** The message a face shows: the field renamed to its wire name when the error names one. */
export function problemMessage(problem: Problem, renames?: Readonly<Record<string, string>>): string {
  if (problem.field === undefined || problem.reason === undefined) return problem.message;
  return wireFieldName(problem.field, renames) + problem.reason;
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

/** `{"errors":[{"status","code","title","detail"}]}`: V2's render_error shape, also the openlinq faces' shape. */
export function renderErrorBody(status: number, detail: string): Record<string, unknown> {
  return {
    errors: [{ status, code: RENDER_CODES[status] ?? "error", title: TITLES[status] ?? "Error", detail }],
  };
}

/** The snake_case status name of the render shape (`not_found`, `rate_limited`, …). */
export function renderCodeFor(status: number): string {
  return RENDER_CODES[status] ?? "internal_server_error";
}

/** The openlinq endpoints take message fields flat (`text`, not `message.text`). */
const OPENLINQ_FIELD_NAMES = { message: "" };

/** The openlinq faces (sandbox, inbox, delivery log, attachments): the render shape, fields snake_cased. */
export const renderOpenlinqProblem: ProblemRenderer = (_request, reply, problem) =>
  reply
    .code(problem.status)
    .type("application/json")
    .send(renderErrorBody(problem.status, problemMessage(problem, OPENLINQ_FIELD_NAMES)));
