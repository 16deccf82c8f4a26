import { DomainError, notFound } from "../errors.ts";
import type { ActivityFeed, Clock, Random, Store } from "../ports.ts";
import {
  faultMatches,
  validateApiFault,
  type ApiFault,
  type ApiFaultInput,
  type FaultHit,
  type NewApiFault,
} from "./api-fault.ts";

/** Storage of faults and of the requests they hit. */
export interface ApiFaultRepository {
  create(fault: NewApiFault): Promise<ApiFault>;
  listByOrg(orgId: number): Promise<ApiFault[]>;
  /** Deletes one fault (or all of the org's when `id` is undefined); returns how many went. */
  delete(orgId: number, id: number | undefined): Promise<number>;
  /** Saves the counters of a fault after a request matched it, and the hit if there was one. */
  recordMatch(orgId: number, fault: Pick<ApiFault, "id" | "matched" | "hits">, hit: FaultHit | undefined): Promise<void>;
  listHits(orgId: number, limit: number): Promise<(FaultHit & { id: number })[]>;
}

export interface ApiFaultDeps {
  repository: ApiFaultRepository;
  store: Store;
  clock: Clock;
  /** Tells open inbox pages that faults changed (added, removed, hit). */
  activity: ActivityFeed;
  /** A seeded stream per fault, so a fraction hits the same requests on every run with the same seed. */
  randomFor(faultId: number): Random;
}

interface CachedFault {
  fault: ApiFault;
  random: Random;
}

/**
 * The organization's faults, cached in this process: a request to an org without faults
 * costs one Map lookup. The API's process is the one that writes faults, so invalidating on
 * create and delete keeps the cache exact (a second API process on the same database sees
 * a change after its next restart: faults are a single-instance sandbox tool).
 *
 * Deciding is synchronous once the org is cached, so concurrent requests never both take
 * the last of a fault's `count`.
 */
export function createApiFaults(deps: ApiFaultDeps) {
  const cache = new Map<number, CachedFault[]>();
  const loading = new Map<number, Promise<CachedFault[]>>();
  // Bumped by every write, so a load that started before it never fills the cache after it.
  let generation = 0;

  function cached(fault: ApiFault): CachedFault {
    const random = deps.randomFor(fault.id);
    // Resume the fault's stream where it stopped, so a restart does not replay its draws.
    for (let i = 0; i < fault.matched; i += 1) random.next();
    return { fault, random };
  }

  async function faultsOf(orgId: number): Promise<CachedFault[]> {
    const hit = cache.get(orgId);
    if (hit) return hit;
    let pending = loading.get(orgId);
    if (!pending) {
      const started = generation;
      pending = deps.repository.listByOrg(orgId).then((faults) => {
        const entries = faults.map(cached);
        if (started === generation) cache.set(orgId, entries);
        loading.delete(orgId);
        return entries;
      });
      loading.set(orgId, pending);
    }
    return pending;
  }

  function forget(orgId: number): void {
    generation += 1;
    cache.delete(orgId);
    loading.delete(orgId);
    deps.activity.publish({ orgId, kind: "fault" });
  }

  return {
    async create(orgId: number, input: ApiFaultInput): Promise<ApiFault> {
      let tokenId: number | null = null;
      if (input.token !== undefined) {
        const caller = await deps.store.read.tokens.findByToken(input.token);
        if (!caller || caller.orgId !== orgId) {
          throw new DomainError("validation_failed", "token is not an integration token of this organization", {
            field: "token",
          });
        }
        tokenId = caller.tokenId;
      }
      const fault = await deps.repository.create(validateApiFault(orgId, input, tokenId, deps.clock.now()));
      forget(orgId);
      return fault;
    },

    async list(orgId: number): Promise<ApiFault[]> {
      return (await faultsOf(orgId)).map((entry) => ({ ...entry.fault }));
    },

    async delete(orgId: number, id: number): Promise<void> {
      const deleted = await deps.repository.delete(orgId, id);
      forget(orgId);
      if (deleted === 0) throw notFound("fault_not_found", `Fault ${id} not found`);
    },

    async deleteAll(orgId: number): Promise<number> {
      const deleted = await deps.repository.delete(orgId, undefined);
      forget(orgId);
      return deleted;
    },

    hits(orgId: number, limit: number) {
      return deps.repository.listHits(orgId, limit);
    },

    /**
     * The fault this request gets, if any: the oldest matching fault whose draw says yes.
     * Every matching fault takes one draw (so each stream depends only on the requests it
     * matched), the first that hits wins.
     */
    async decide(orgId: number, tokenId: number, method: string, path: string): Promise<FaultHit | undefined> {
      const entries = cache.get(orgId) ?? (await faultsOf(orgId));
      if (entries.length === 0) return undefined;
      let chosen: FaultHit | undefined;
      const touched: { fault: ApiFault; hit: FaultHit | undefined }[] = [];
      for (const entry of entries) {
        const fault = entry.fault;
        if (!faultMatches(fault, method, path, tokenId)) continue;
        fault.matched += 1;
        const draw = entry.random.next();
        let hit: FaultHit | undefined;
        if (chosen === undefined && draw < fault.fraction) {
          fault.hits += 1;
          hit = {
            faultId: fault.id,
            method,
            path,
            status: fault.status,
            retryAfter: fault.retryAfter,
            latencyMs: fault.latencyMs,
            at: deps.clock.now(),
          };
          chosen = hit;
        }
        touched.push({ fault, hit });
      }
      for (const { fault, hit } of touched) {
        await deps.repository.recordMatch(orgId, { id: fault.id, matched: fault.matched, hits: fault.hits }, hit);
      }
      if (chosen) deps.activity.publish({ orgId, kind: "fault", detail: { fault_id: chosen.faultId } });
      return chosen;
    },
  };
}

export type ApiFaults = ReturnType<typeof createApiFaults>;
