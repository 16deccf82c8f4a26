import { DomainError } from "../errors.ts";
import type { DeliveryStatus } from "../model.ts";

/**
 * Delivery-side scenarios: things that go wrong between a message leaving us and a
 * webhook reaching the integrator, injected on purpose for one chat or one message.
 *
 * Two families:
 * - carrier kinds change what happens to one of our messages: played by the carrier on the
 *   chat's next message of ours (the simulator plans them like any delivery, so the virtual
 *   clock and OPENLINQ_RANDOM_SEED replay them exactly), or at once on a given message;
 * - webhook kinds change how the chat's next event reaches the subscriptions (at fan-out).
 *
 * A scenario is armed until it applies, then kept with what it did (`eventIds`), and every
 * event or delivery it made or shaped names it, so the delivery log shows what was injected.
 */

export const CARRIER_SCENARIO_KINDS = ["message_failed", "delivered_then_failed", "read_before_delivered", "sms_downgrade"] as const;
export const WEBHOOK_SCENARIO_KINDS = ["duplicate_delivery", "out_of_order", "delayed_delivery"] as const;
export const SCENARIO_KINDS = [...CARRIER_SCENARIO_KINDS, ...WEBHOOK_SCENARIO_KINDS] as const;

export type CarrierScenarioKind = (typeof CARRIER_SCENARIO_KINDS)[number];
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

export const isCarrierKind = (kind: ScenarioKind): kind is CarrierScenarioKind =>
  (CARRIER_SCENARIO_KINDS as readonly string[]).includes(kind);

/**
 * message.failed codes (Linq's V3 error catalogue) and what the message's delivery_status
 * becomes with each: 4004 is the carrier's "service unavailable", 1007 its rate limit.
 */
export const FAILURE_CODES: Readonly<Record<number, { reason: string; status: DeliveryStatus }>> = {
  1007: { reason: "Rate limit exceeded", status: "rate_limit_exceeded" },
  3007: { reason: "Maximum delivery attempts exceeded", status: "failed" },
  4001: { reason: "Delivery failed", status: "failed" },
  4002: { reason: "Phone line not available", status: "failed" },
  4004: { reason: "Service unavailable", status: "service_unavailable" },
  4005: { reason: "Recipient does not support this message type", status: "failed" },
  4006: { reason: "Delivery failed", status: "failed" },
  4007: { reason: "Delivery failed", status: "failed" },
  4008: { reason: "Delivery failed", status: "failed" },
};
export const DEFAULT_FAILURE_CODE = 4001;
/** The failure of a message the recipient's service cannot carry (an app card over SMS). */
export const CARD_NOT_SUPPORTED = 4005;
/** The gap between the two steps of a two-step kind, and how long delayed or held events wait, by default. */
export const DEFAULT_SCENARIO_DELAY_MS = 1000;
export const MAX_SCENARIO_DELAY_MS = 24 * 60 * 60 * 1000;

export type ScenarioStatus = "armed" | "applied";

export interface DeliveryScenario {
  id: number;
  orgId: number;
  kind: ScenarioKind;
  chatId: number;
  /** The message it played on: given when armed, or the chat's next message of ours. */
  messageId: number | null;
  /** The message.failed code (message_failed, delivered_then_failed); null for the other kinds. */
  code: number | null;
  /**
   * message_failed: from sending to the failure; delivered_then_failed and read_before_delivered:
   * between the two steps; delayed_delivery: how late the event goes out; out_of_order: how long
   * the first event is held back while the ones after it go on. Unused by the others.
   */
  delayMs: number;
  status: ScenarioStatus;
  eventIds: string[];
  createdAt: Date;
  appliedAt: Date | null;
}

export type NewDeliveryScenario = Omit<DeliveryScenario, "id" | "status" | "eventIds" | "appliedAt">;

export interface ScenarioInput {
  kind: ScenarioKind;
  /** The V2 integer id or the V3 id (UUID). */
  chatId?: number | string | undefined;
  messageId?: number | string | undefined;
  code?: number | undefined;
  delayMs?: number | undefined;
}

/** Checks what the input alone can tell; the service checks the chat and message. */
export function validateScenarioInput(input: ScenarioInput): { code: number | null; delayMs: number } {
  if (!(SCENARIO_KINDS as readonly string[]).includes(input.kind)) {
    throw new DomainError("validation_failed", `kind must be one of ${SCENARIO_KINDS.join(", ")}`, { field: "kind" });
  }
  if ((input.chatId === undefined) === (input.messageId === undefined)) {
    throw new DomainError("validation_failed", "give either chat_id (the chat's next message or event) or message_id (one message, now)", {
      field: "chat_id",
    });
  }
  if (input.messageId !== undefined && !isCarrierKind(input.kind)) {
    throw new DomainError("validation_failed", `${input.kind} shapes the chat's next event: give chat_id`, { field: "message_id" });
  }
  const takesCode = input.kind === "message_failed" || input.kind === "delivered_then_failed";
  if (input.code !== undefined && !takesCode) {
    throw new DomainError("validation_failed", `code applies to message_failed and delivered_then_failed only`, { field: "code" });
  }
  if (input.code !== undefined && !(input.code in FAILURE_CODES)) {
    throw new DomainError("validation_failed", `code must be one of ${Object.keys(FAILURE_CODES).join(", ")}`, { field: "code" });
  }
  const delayMs = input.delayMs ?? (input.kind === "message_failed" ? 0 : DEFAULT_SCENARIO_DELAY_MS);
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_SCENARIO_DELAY_MS) {
    throw new DomainError("validation_failed", `delay_ms must be an integer from 0 to ${MAX_SCENARIO_DELAY_MS}`, { field: "delay_ms" });
  }
  return { code: takesCode ? (input.code ?? DEFAULT_FAILURE_CODE) : null, delayMs };
}

/**
 * The carrier steps of a carrier kind, in order, each `afterMs` after the previous one (the
 * first after the message's normal travel time).
 */
export type CarrierStep = "deliver" | "fail" | "read" | "downgrade";

export function carrierSteps(scenario: Pick<DeliveryScenario, "kind" | "delayMs">): { step: CarrierStep; afterMs: number }[] {
  switch (scenario.kind) {
    case "message_failed":
      return [{ step: "fail", afterMs: scenario.delayMs }];
    case "delivered_then_failed":
      return [
        { step: "deliver", afterMs: 0 },
        { step: "fail", afterMs: scenario.delayMs },
      ];
    case "read_before_delivered":
      return [
        { step: "read", afterMs: 0 },
        { step: "deliver", afterMs: scenario.delayMs },
      ];
    case "sms_downgrade":
      return [{ step: "downgrade", afterMs: 0 }];
    default:
      return [];
  }
}
