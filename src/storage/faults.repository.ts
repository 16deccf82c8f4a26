import type { Kysely } from "kysely";
import type { ApiFault, FaultStatus } from "../core/faults/api-fault.ts";
import type { ApiFaultRepository } from "../core/faults/api-faults.service.ts";
import { isRowId, stamp } from "./mappers.ts";
import type { ApiFaultRow, Database } from "./schema.ts";

function faultRowToFault(row: ApiFaultRow): ApiFault {
  return {
    id: row.id,
    orgId: row.org_id,
    method: row.method,
    path: row.path,
    tokenId: row.token_id,
    status: row.status as FaultStatus | null,
    retryAfter: row.retry_after,
    latencyMs: row.latency_ms,
    count: row.count,
    fraction: Number(row.fraction),
    matched: row.matched,
    hits: row.hits,
    createdAt: new Date(row.created_at),
  };
}

export function apiFaultRepository(db: Kysely<Database>): ApiFaultRepository {
  return {
    async create(fault) {
      const row = await db
        .insertInto("api_faults")
        .values({
          org_id: fault.orgId,
          method: fault.method,
          path: fault.path,
          token_id: fault.tokenId,
          status: fault.status,
          retry_after: fault.retryAfter,
          latency_ms: fault.latencyMs,
          count: fault.count,
          fraction: fault.fraction,
          matched: 0,
          hits: 0,
          created_at: stamp(fault.createdAt),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return faultRowToFault(row);
    },

    async listByOrg(orgId) {
      const rows = await db.selectFrom("api_faults").selectAll().where("org_id", "=", orgId).orderBy("id").execute();
      return rows.map(faultRowToFault);
    },

    async delete(orgId, id) {
      if (id !== undefined && !isRowId(id)) return 0;
      let query = db.deleteFrom("api_faults").where("org_id", "=", orgId);
      if (id !== undefined) query = query.where("id", "=", id);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async recordMatch(orgId, fault, hit) {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable("api_faults")
          .set({ matched: fault.matched, hits: fault.hits })
          .where("id", "=", fault.id)
          .where("org_id", "=", orgId)
          .execute();
        if (hit) {
          await trx
            .insertInto("api_fault_hits")
            .values({
              org_id: orgId,
              fault_id: hit.faultId,
              method: hit.method,
              path: hit.path,
              status: hit.status,
              latency_ms: hit.latencyMs,
              at: stamp(hit.at),
            })
            .execute();
        }
      });
    },

    async listHits(orgId, limit) {
      const rows = await db
        .selectFrom("api_fault_hits")
        .selectAll()
        .where("org_id", "=", orgId)
        .orderBy("id", "desc")
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        faultId: row.fault_id,
        method: row.method,
        path: row.path,
        status: row.status as FaultStatus | null,
        retryAfter: null,
        latencyMs: row.latency_ms,
        at: new Date(row.at),
      }));
    },
  };
}
