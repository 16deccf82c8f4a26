import type { WipeSummary } from "../../core/ports.ts";
import type { SimulatorDeps } from "./ports.ts";
import { applySeed, type Seed, type SeedSummary } from "./seed.ts";

export interface ResetResult {
  wiped: Omit<WipeSummary, "attachmentStorageKeys">;
  seeded: SeedSummary;
}

/**
 * POST /openlinq/v1/reset: wipes the org's chats, messages, contacts, events, profiles and
 * calls, and loads the seed again, in one transaction (a bad seed leaves everything as it
 * was). Organizations, users, tokens, numbers and webhook subscriptions stay.
 */
export async function resetSandbox(deps: SimulatorDeps, orgId: number, seed: Seed): Promise<ResetResult> {
  const { wiped, seeded } = await deps.simulator.transaction(async (tx) => {
    const wiped = await tx.sandbox.wipeOrganization(orgId);
    const seeded = await applySeed(tx, deps, orgId, seed);
    return { wiped, seeded };
  });
  const { attachmentStorageKeys, ...counts } = wiped;
  await Promise.all(attachmentStorageKeys.map((key) => deps.files.remove(key).catch(() => undefined)));
  deps.activity.publish({ orgId, kind: "reset" });
  return { wiped: counts, seeded };
}

/** Loads the seed into an org that has no chats, contacts or profiles yet (first start); undefined otherwise. */
export async function seedIfPristine(deps: SimulatorDeps, orgId: number, seed: Seed): Promise<SeedSummary | undefined> {
  return deps.simulator.transaction(async (tx) => {
    if (!(await tx.sandbox.isPristine(orgId))) return undefined;
    return applySeed(tx, deps, orgId, seed);
  });
}
