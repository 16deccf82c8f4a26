import type { Kysely } from "kysely";
import type { OutboundQueue } from "../../outbound/ports.ts";
import type { MigrationDialect } from "../migrations/index.ts";
import type { Database } from "../schema.ts";
import { completeJobs } from "./complete-jobs.ts";
import { failJobs } from "./fail-jobs.ts";
import { getDueJobs } from "./get-due-jobs.ts";
import { nextDueAt } from "./next-due-at.ts";
import { queueStats } from "./queue-stats.ts";
import { releaseClaims, resetExpiredClaims } from "./reset-expired-claims.ts";

/** The outbound queue over one database: the operations of this folder, bound. */
export function outboundQueue(db: Kysely<Database>, dialect: MigrationDialect): OutboundQueue {
  return {
    getDueJobs: (workerId, window) => getDueJobs(db, dialect, workerId, window),
    claimJobs: (workerId, ids, window) => getDueJobs(db, dialect, workerId, { ...window, limit: ids.length, onlyIds: ids }),
    completeJobs: (workerId, ids) => completeJobs(db, workerId, ids),
    failJobs: (workerId, failures) => failJobs(db, workerId, failures),
    resetExpiredClaims: (now) => resetExpiredClaims(db, now),
    releaseClaims: (workerId, ids) => releaseClaims(db, workerId, ids),
    nextDueAt: () => nextDueAt(db),
    stats: (now) => queueStats(db, now),
  };
}
