import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { EMPTY_SEED, parseSeed, SeedError, type Seed } from "../transport/simulator/seed.ts";
import { ConfigError } from "./config.ts";

/**
 * Reads OPENLINQ_SEED_FILE (YAML; JSON is YAML too). Read again on every reset, so edits
 * apply without a restart. Throws ConfigError listing every problem, at start and on reset alike.
 */
export function readSeedFile(path: string | undefined): Seed {
  if (path === undefined) return EMPTY_SEED;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError([`OPENLINQ_SEED_FILE: cannot read ${path}: ${(error as Error).message}`]);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ConfigError([`OPENLINQ_SEED_FILE ${path} is not valid YAML: ${(error as Error).message}`]);
  }
  try {
    return parseSeed(document);
  } catch (error) {
    if (error instanceof SeedError) throw new ConfigError(error.problems.map((p) => `OPENLINQ_SEED_FILE ${path}: ${p}`));
    throw error;
  }
}
