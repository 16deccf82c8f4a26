import type { Kysely, Selectable } from "kysely";
import { compiledOnce } from "./compiled-once.ts";
import type { DeliveryStatus } from "../core/model.ts";
import type { NewOutboundJob } from "../core/ports.ts";
import type { SimulatedSendRepository, SimulatorStore } from "../transport/simulator/ports.ts";
import { maybeStamp, stamp } from "./mappers.ts";
import type { Database } from "./schema.ts";
import { handleProfileRepository } from "./simulator.repository.ts";
import { repositories, type StoreOptions } from "./store.ts";

// Once per send each: compiled once (see compiled-once.ts).
const findSend = compiledOnce((db, a: { messageId: number }) => db.selectFrom("simulator_sends").selectAll().where("message_id", "=", a.messageId));
// A repeat (the same message accepted again) inserts nothing and says so, in one statement:
// no read before the insert, and no unique violation (which would abort a Postgres transaction).
const insertSend = compiledOnce((db, row: Selectable<Database["simulator_sends"]>) =>
  db
    .insertInto("simulator_sends")
    .values({
      message_id: row.message_id,
      org_id: row.org_id,
      carrier_message_id: row.carrier_message_id,
      status: row.status,
      delivered_at: row.delivered_at,
      created_at: row.created_at,
    } satisfies Record<keyof Selectable<Database["simulator_sends"]>, unknown>)
    .onConflict((oc) => oc.column("message_id").doNothing())
    .returning("message_id"),
);

function simulatedSendRepository(db: Kysely<Database>): SimulatedSendRepository {
  return {
    async find(messageId) {
      const [row] = (await findSend(db, { messageId })).rows;
      return (
        row && {
          messageId: row.message_id,
          orgId: row.org_id,
          carrierMessageId: row.carrier_message_id,
          status: row.status as DeliveryStatus,
          deliveredAt: row.delivered_at === null ? null : new Date(row.delivered_at),
        }
      );
    },
    async create(send, now) {
      const { rows } = await insertSend(db, {
        message_id: send.messageId,
        org_id: send.orgId,
        carrier_message_id: send.carrierMessageId,
        status: send.status,
        delivered_at: maybeStamp(send.deliveredAt),
        created_at: stamp(now),
      });
      return rows.length === 1;
    },
  };
}

export interface SimulatorStoreOptions extends StoreOptions {
  /**
   * Called after a commit that queued outbound jobs (the carrier's schedule: deliveries,
   * reads, replies), with the earliest run_at among them, so the outbound worker arms its
   * timer without asking the queue.
   */
  onJobsCommitted?: (earliestRunAt: Date) => void;
}

/** The simulated carrier's storage beside core's (see src/transport/simulator/ports.ts); the same hooks as the core store. */
export function createSimulatorStore(db: Kysely<Database>, options: SimulatorStoreOptions): SimulatorStore {
  const committed = () => options.onDeliveriesCommitted?.();
  const bind = (conn: Kysely<Database>, onDeliveriesWritten: () => void, onJobsWritten: (jobs: readonly NewOutboundJob[]) => void) => {
    const core = repositories(conn, options.secrets, onDeliveriesWritten);
    return {
      ...core,
      outboundJobs: {
        async add(jobs: readonly NewOutboundJob[], now: Date) {
          const ids = await core.outboundJobs.add(jobs, now);
          onJobsWritten(jobs);
          return ids;
        },
      },
      handleProfiles: handleProfileRepository(conn),
      sends: simulatedSendRepository(conn),
    };
  };
  const earliest = (jobs: readonly NewOutboundJob[], before?: Date) =>
    jobs.reduce<Date | undefined>((at, job) => (at === undefined || job.runAt < at ? job.runAt : at), before);
  return {
    read: bind(db, committed, (jobs) => {
      const at = earliest(jobs);
      if (at) options.onJobsCommitted?.(at);
    }),
    async transaction(work) {
      let queuedDeliveries = false;
      let jobsAt: Date | undefined;
      const result = await db.transaction().execute((trx) =>
        work(
          bind(
            trx,
            () => (queuedDeliveries = true),
            (jobs) => (jobsAt = earliest(jobs, jobsAt)),
          ),
        ),
      );
      if (queuedDeliveries) committed();
      if (jobsAt) options.onJobsCommitted?.(jobsAt);
      return result;
    },
  };
}
