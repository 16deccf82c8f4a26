import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ErrorCode } from "../../core/errors.ts";
import { problemMessage, registerFaceErrors, renderCodeFor, renderErrorBody, type Problem, type ProblemRenderer } from "../errors.ts";

/**
 * V2 has two error envelopes, fixed per resource:
 * - render_error:   {"errors":[{"status","code","title","detail"}]}
 * - standard:       {"status":"error","error_code","message","errors":[…]}
 * Each route names its shape in `config.errorShape`; everything unnamed uses render_error.
 */
export type ErrorShape = "render" | "standard";

declare module "fastify" {
  interface FastifyContextConfig {
    errorShape?: ErrorShape;
  }
  interface FastifyRequest {
    /**
     * Domain field → V2 wire name for this request, when a route accepts more than one body
     * shape (the quickstart's flat body vs. the reference's nested one). See V2_FIELD_NAMES.
     */
    v2FieldNames: Readonly<Record<string, string>> | null;
  }
}

/** How V2 names the domain fields whose names differ beyond snake_case. */
export const V2_FIELD_NAMES: Readonly<Record<string, string>> = {
  sender: "send_from",
  recipients: "chat.phone_numbers",
  participants: "phone_numbers",
};

/** SCREAMING_SNAKE code of the standard envelope. */
function standardCodeFor(status: number, code: ErrorCode | undefined): string {
  if (code === "missing_parameter") return "MISSING_PARAMETERS";
  if (code && code.endsWith("_not_found")) return code.toUpperCase();
  if (status === 422) return "VALIDATION_ERROR";
  if (status === 429) return "RATE_LIMITED";
  return renderCodeFor(status).toUpperCase();
}

export function v2ErrorBody(shape: ErrorShape, problem: Problem, request?: FastifyRequest): Record<string, unknown> {
  const detail = problemMessage(problem, request?.v2FieldNames ?? V2_FIELD_NAMES);
  if (shape === "standard") {
    return { status: "error", error_code: standardCodeFor(problem.status, problem.code), message: detail, errors: [detail] };
  }
  return renderErrorBody(problem.status, detail);
}

/** The V2 envelope of the route's shape. */
export const renderV2Problem: ProblemRenderer = (request, reply, problem) =>
  reply
    .code(problem.status)
    .type("application/json")
    .send(v2ErrorBody(request.routeOptions?.config?.errorShape ?? "render", problem, request));

/** Registers the V2 envelope as the error and not-found handler of the V2 face plugin. */
export function registerV2Errors(app: FastifyInstance): void {
  app.decorateRequest("v2FieldNames", null);
  registerFaceErrors(app, renderV2Problem);
}
