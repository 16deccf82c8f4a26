import type { Kysely } from "kysely";
import type { DeliveryStatus } from "../core/model.ts";
import type { SimulatedSendRepository, SimulatorStore } from "../transport/simulator/ports.ts";
import { maybeStamp, stamp } from "./mappers.ts";
import { addJobs } from "./outbound/add-jobs.ts";
import type { Database } from "./schema.ts";
import { handleProfileRepository } from "./simulator.repository.ts";

function simulatedSendRepository(db: Kysely<Database>): SimulatedSendRepository {
  return {
    async find(messageId) {
      const row = await db.selectFrom("simulator_sends").selectAll().where("message_id", "=", messageId).executeTakeFirst();
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
      await db
        .insertInto("simulator_sends")
        .values({
          message_id: send.messageId,
          org_id: send.orgId,
          carrier_message_id: send.carrierMessageId,
          status: send.status,
          delivered_at: maybeStamp(send.deliveredAt),
          created_at: stamp(now),
        })
        .execute();
    },
  };
}

/** The simulated carrier's storage (see src/transport/simulator/ports.ts). */
export function createSimulatorStore(db: Kysely<Database>): SimulatorStore {
  return {
    transaction: (work) =>
      db.transaction().execute((trx) =>
        work({
          handleProfiles: handleProfileRepository(trx),
          outboundJobs: { add: (jobs, now) => addJobs(trx, jobs, now) },
          sends: simulatedSendRepository(trx),
        }),
      ),
  };
}
