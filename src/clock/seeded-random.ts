import { randomInt } from "node:crypto";
import type { Random } from "../core/ports.ts";

export const MAX_RANDOM_SEED = 2 ** 32 - 1;

/**
 * mulberry32: small, fast, and the same sequence for the same seed on every platform.
 * Not for secrets (ids and tokens use node:crypto).
 */
export function createSeededRandom(seed: number): Random & { readonly seed: number } {
  let state = seed >>> 0;
  return {
    seed,
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A seed for runs that did not ask for one; shown by GET /openlinq/v1/clock so a run can be repeated. */
export function freshRandomSeed(): number {
  return randomInt(0, MAX_RANDOM_SEED);
}
