import type { Kysely } from "kysely";
import type { DeliveryStatus } from "../core/model.ts";
import type { SimulatedSendRepository, SimulatorStore } from "../transport/simulator/ports.ts";
import { maybeStamp, stamp } from "./mappers.ts";
import type { Database } from "./schema.ts";
import { handleProfileRepository } from "./simulator.repository.ts";
import { repositories, type StoreOptions } from "./store.ts";

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

/** The simulated carrier's storage beside core's (see src/transport/simulator/ports.ts); the same hooks as the core store. */
export function createSimulatorStore(db: Kysely<Database>, options: StoreOptions): SimulatorStore {
  const committed = () => options.onDeliveriesCommitted?.();
  const bind = (conn: Kysely<Database>, onDeliveriesWritten: () => void) => ({
    ...repositories(conn, options.secrets, onDeliveriesWritten),
    handleProfiles: handleProfileRepository(conn),
    sends: simulatedSendRepository(conn),
  });
  return {
    read: bind(db, committed),
    async transaction(work) {
      let queuedDeliveries = false;
      const result = await db.transaction().execute((trx) => work(bind(trx, () => (queuedDeliveries = true))));
      if (queuedDeliveries) committed();
      return result;
    },
  };
}
