import type { CoreDeps } from "../../core/deps.ts";
import type { DeliveryStatus } from "../../core/model.ts";
import type { Repositories } from "../../core/ports.ts";
import type { HandleProfileSettings, StoredHandleProfile } from "./profiles/profile.ts";

/**
 * What the simulated carrier keeps in the database, beside core's repositories (one
 * transaction covers both). Adapter: src/storage/simulator-store.ts. Its schedule
 * (deliveries, reads, reactions, replies) is outbound jobs, so it survives a restart exactly
 * as the sends do.
 */

/** Settings of simulated devices (the simulator's recipients), per organization and handle. */
export interface HandleProfileRepository {
  find(orgId: number, handle: string): Promise<StoredHandleProfile | undefined>;
  findMany(orgId: number, handles: readonly string[]): Promise<StoredHandleProfile[]>;
  list(orgId: number): Promise<StoredHandleProfile[]>;
  /** Creates or replaces the settings; a script starts over. */
  save(orgId: number, handle: string, settings: HandleProfileSettings, now: Date): Promise<StoredHandleProfile>;
  delete(orgId: number, handle: string): Promise<boolean>;
  setScriptPosition(orgId: number, handle: string, position: number, now: Date): Promise<void>;
}

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
  /** Records the send; false (and nothing written) when the message was accepted before. */
  create(send: SimulatedSend, now: Date): Promise<boolean>;
}

/** Core's repositories plus the simulator's own, bound to one connection or transaction. */
export interface SimulatorRepositories extends Repositories {
  handleProfiles: HandleProfileRepository;
  sends: SimulatedSendRepository;
}

export interface SimulatorStore {
  read: SimulatorRepositories;
  /** E.g. accepting a message, taking scripted replies and planning what follows commit together. */
  transaction<T>(work: (repos: SimulatorRepositories) => Promise<T>): Promise<T>;
}

/** What the sandbox endpoints (profiles, reset, seed) work with: core's deps and the simulator's store. */
export interface SimulatorDeps extends CoreDeps {
  simulator: SimulatorStore;
}
