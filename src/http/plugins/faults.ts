import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiFaults } from "../../core/faults/api-faults.service.ts";
import type { FaultHit } from "../../core/faults/api-fault.ts";
import type { ProblemRenderer } from "../errors.ts";


/** Names the fault in every answer it shapes, so a client log shows what was injected. */
export const FAULT_HEADER = "x-openlinq-fault";

const DETAILS: Record<number, string> = {
  429: "Rate limit exceeded",
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service temporarily unavailable",
};

/**
 * The fault hook every Linq face registers after its auth hook (it needs the caller), with
 * its own error renderer: an injected 429 looks exactly like that face's real 429. Latency
 * is wall-clock time even under the virtual clock: it is what a client's timeout sees, and
 * a virtual delay would hold the request until someone advanced the clock.
 */
export function createFaultInjector(faults: ApiFaults, render: ProblemRenderer) {
  return async function injectFault(request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split("?")[0]!;
    const hit: FaultHit | undefined = await faults.decide(
      request.caller.orgId,
      request.caller.tokenId,
      request.method,
      path,
    );
    if (!hit) return;
    reply.header(FAULT_HEADER, String(hit.faultId));
    if (hit.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, hit.latencyMs));
    if (hit.status === null) return;
    if (hit.retryAfter !== null) reply.header("Retry-After", String(hit.retryAfter));
    return render(request, reply, {
      status: hit.status,
      code: hit.status === 429 ? "rate_limited" : undefined,
      message: `${DETAILS[hit.status]} (injected by fault ${hit.faultId})`,
      retryAfter: hit.retryAfter ?? undefined,
    });
  };
}
