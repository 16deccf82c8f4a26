import type { DeliveryStatus } from "../../core/model.ts";
import type { HandleProfileRepository, OutboundJobRepository } from "../../core/ports.ts";

/**
 * What the simulated carrier keeps in the database. Adapter: src/storage/simulator-store.ts.
 * Its schedule (deliveries, reads, reactions, replies) is outbound jobs, so it survives a
 * restart exactly as the sends do.
 */

/** The simulated carrier's memory of a message it accepted: the same message always gets the same answer. */
export interface SimulatedSend {
  messageId: number;
  orgId: number;
  carrierMessageId: string;
  /** What the carrier answered at once: pending when a delivery or failure follows as a job. */
  status: DeliveryStatus;
  deliveredAt: Date | null;
}

export interface SimulatedSendRepository {
  find(messageId: number): Promise<SimulatedSend | undefined>;
  create(send: SimulatedSend, now: Date): Promise<void>;
}

export interface SimulatorRepositories {
  handleProfiles: HandleProfileRepository;
  outboundJobs: OutboundJobRepository;
  sends: SimulatedSendRepository;
}

export interface SimulatorStore {
  /** Accepting a message, taking scripted replies and planning what follows commit together. */
  transaction<T>(work: (repos: SimulatorRepositories) => Promise<T>): Promise<T>;
}
