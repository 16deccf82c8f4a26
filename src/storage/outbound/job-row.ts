import type { OutboundJob } from "../../outbound/ports.ts";
import type { OutboundJobRow } from "../schema.ts";

export function outboundJobRowToJob(row: OutboundJobRow): OutboundJob {
  return {
    id: row.id,
    orgId: row.org_id,
    kind: row.kind,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    runAt: new Date(row.run_at),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    claimedUntil: new Date(row.claimed_until!),
  };
}

/** RETURNING promises no order: due order, then the order jobs were added. */
export function inDueOrder(rows: OutboundJobRow[]): OutboundJobRow[] {
  return rows.sort((a, b) => (a.run_at === b.run_at ? a.id - b.id : a.run_at < b.run_at ? -1 : 1));
}
