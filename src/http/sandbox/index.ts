import type { FastifyInstance } from "fastify";
import type { AdvanceResult } from "../../clock/virtual-clock.ts";
import type { CoreDeps } from "../../core/deps.ts";
import type { Seed } from "../../core/sandbox/seed.ts";
import { clockRoutes } from "./clock.routes.ts";
import { handleRoutes } from "./handles.routes.ts";
import { resetRoutes } from "./reset.routes.ts";
import { simulateRoutes } from "./simulate.routes.ts";

/** The clock as the sandbox shows and moves it; the advance methods exist only on a virtual clock. */
export interface SandboxClock {
  mode: "system" | "virtual";
  now(): Date;
  pendingTimers(): number;
  randomSeed: number;
  advanceBy?(ms: number): Promise<AdvanceResult>;
  advanceTo?(target: Date): Promise<AdvanceResult>;
}

export interface SandboxOptions {
  deps: CoreDeps;
  clock: SandboxClock;
  loadSeed: () => Seed;
  onReset?: (orgId: number) => void;
}

/**
 * The sandbox face, /openlinq/v1: simulated device profiles, the other side of the
 * conversation (simulate/*), the clock, and reset. Integration-token auth, each call scoped
 * to the token's organization (the clock is server-wide), errors in the render_error shape.
 */
export function sandboxFace(options: SandboxOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(
      async (sandbox) => {
        sandbox.addHook("onRequest", app.auth.authenticate(["integration-header", "bearer"]));
        await sandbox.register(handleRoutes, { deps: options.deps });
        await sandbox.register(simulateRoutes, { deps: options.deps });
        await sandbox.register(clockRoutes, { clock: options.clock });
        await sandbox.register(resetRoutes, {
          deps: options.deps,
          loadSeed: options.loadSeed,
          ...(options.onReset ? { onReset: options.onReset } : {}),
        });
      },
      { prefix: "/openlinq/v1" },
    );
  };
}
