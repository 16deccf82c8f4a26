import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ErrorCode } from "../../core/errors.ts";
import { problemMessage, registerFaceErrors, type Problem, type ProblemRenderer } from "../errors.ts";

/** A V3 error: the HTTP status and Linq's integer code (1xxx request, 2xxx resource/auth, 3xxx server, 5xxx files). */
export interface V3ErrorCode {
  status: number;
  code: number;
}

/** Domain code → V3 status and integer code; exhaustive by construction. */
export function v3ErrorFor(code: ErrorCode): V3ErrorCode {
  switch (code) {
    case "missing_parameter":
      return { status: 400, code: 1001 };
    case "invalid_phone_number":
      return { status: 400, code: 1002 };
    case "bad_request":
      return { status: 400, code: 1003 };
    case "validation_failed":
    case "url_not_allowed":
    case "user_not_found":
      return { status: 400, code: 1005 };
    case "invalid_message_content":
      return { status: 400, code: 1004 };
    case "invalid_app_card":
      return { status: 400, code: 1008 };
    case "app_card_requires_imessage":
      return { status: 409, code: 2018 };
    case "message_type_not_supported":
      return { status: 422, code: 4005 };
    case "direct_chat_not_supported":
      return { status: 409, code: 1006 };
    case "rate_limited":
      return { status: 429, code: 1007 };
    case "chat_not_found":
    case "reaction_not_found":
    case "event_not_found":
    case "handle_not_found":
    case "fault_not_found":
    case "scenario_not_found":
    case "token_not_found":
    case "listener_not_found":
      return { status: 404, code: 2001 };
    case "message_not_found":
      return { status: 404, code: 2002 };
    case "attachment_not_found":
      return { status: 404, code: 2003 };
    case "unauthorized":
      return { status: 401, code: 2004 };
    case "forbidden":
      return { status: 403, code: 2005 };
    case "sender_not_owned":
      return { status: 403, code: 2006 };
    case "webhook_subscription_not_found":
      return { status: 404, code: 2010 };
    case "contact_not_found":
    case "contact_card_not_found":
      return { status: 404, code: 2012 };
    case "chat_unavailable":
      return { status: 409, code: 2013 };
    case "group_chat_not_supported":
      return { status: 409, code: 2016 };
    case "service_not_supported":
      return { status: 409, code: 2017 };
    case "contact_card_exists":
      return { status: 409, code: 2014 };
    case "attachment_not_ready":
      return { status: 404, code: 2007 };
    case "content_type_mismatch":
      return { status: 400, code: 5006 };
    case "conflict":
      return { status: 409, code: 2015 };
    case "phone_number_not_found":
      return { status: 404, code: 2019 };
    case "internal":
      return { status: 500, code: 3006 };
    case "attachment_type_not_allowed":
      return { status: 400, code: 5004 };
    case "attachment_too_large":
      return { status: 400, code: 5005 };
    case "attachment_download_failed":
      return { status: 400, code: 5007 };
    case "payload_too_large":
      return { status: 413, code: 1003 };
    case "unsupported_media_type":
      return { status: 415, code: 1003 };
  }
}

/** Failures known only by status (no route, wrong method, …). */
function v3ErrorForStatus(status: number): V3ErrorCode {
  if (status === 404) return { status, code: 2001 };
  if (status >= 500) return { status, code: 3006 };
  return { status, code: 1003 };
}

/** How V3 names the domain fields whose names differ beyond snake_case. */
export const V3_FIELD_NAMES: Readonly<Record<string, string>> = {
  sender: "from",
  recipients: "to",
  participants: "handles",
};

export const TRACE_HEADER = "x-trace-id";

/** The request's trace id (32 hex chars), set as X-Trace-ID once per request. */
export function traceIdOf(reply: FastifyReply): string {
  const existing = reply.getHeader(TRACE_HEADER);
  if (typeof existing === "string") return existing;
  const traceId = randomBytes(16).toString("hex");
  reply.header(TRACE_HEADER, traceId);
  return traceId;
}

/** A schema failure that is a missing field (V3 has its own code for it, 1001). */
const MISSING_FIELD = /must have required property/;

/** `{ success:false, error:{status, code, message, retry_after?}, trace_id }`. */
export function v3ErrorBody(problem: Problem, traceId: string) {
  const { status, code } =
    problem.code === undefined
      ? v3ErrorForStatus(problem.status)
      : problem.code === "bad_request" && MISSING_FIELD.test(problem.message)
        ? { status: 400, code: 1001 }
        : v3ErrorFor(problem.code);
  return {
    status,
    body: {
      success: false as const,
      error: {
        status,
        code,
        message: problemMessage(problem, V3_FIELD_NAMES),
        ...(problem.retryAfter !== undefined ? { retry_after: problem.retryAfter } : {}),
      },
      trace_id: traceId,
    },
  };
}

/**
 * Registers the V3 envelope as the error and not-found handler of the V3 face plugin. A 429
 * carries Retry-After (set by the rate limiter) and `error.retry_after`; a 409 says
 * `x-should-retry: false`, since V3 uses 409 for conflicts a retry cannot fix and the
 * official client retries 409s otherwise.
 */
export function registerV3Errors(app: FastifyInstance): void {
  registerFaceErrors(app, renderV3Problem);
}

/** The V3 envelope (also for injected faults: `createFaultInjector(faults, renderV3Problem)`). */
export const renderV3Problem: ProblemRenderer = (_request, reply, problem) => {
  const { status, body } = v3ErrorBody(problem, traceIdOf(reply));
  if (status === 409) reply.header("x-should-retry", "false");
  if (status === 429 && problem.retryAfter !== undefined) reply.header("Retry-After", problem.retryAfter);
  return reply.code(status).type("application/json").send(body);
};
