import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropPostgresSchema } from "../src/storage/database.ts";

export type BenchDialect = "sqlite" | "postgres";

/** Where one benchmarked server keeps its store, as config keys and as OPENLINQ_ variables. */
export interface StoreSpot {
  env: Record<string, string>;
  config: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * A data directory, and on Postgres a schema of its own, for one server of a benchmark
 * (logs quiet, rate limit off); both are dropped by `cleanup`.
 */
export function storeSpot(
  dialect: BenchDialect,
  databaseUrl: string | undefined,
  label: string,
  account: { token: string; phoneNumber: string },
): StoreSpot {
  const dataDir = mkdtempSync(join(tmpdir(), `openlinq-bench-${label}-`));
  const schema = `bench_${label.replace(/-/g, "_")}_${randomBytes(3).toString("hex")}`;
  const config: Record<string, string> = {
    DATA_DIR: dataDir,
    TOKEN: account.token,
    PHONE_NUMBERS: account.phoneNumber,
    RATE_LIMIT: "0",
    LOG_LEVEL: "warn",
    PORT: "0",
    ...(dialect === "postgres" ? { DATABASE_URL: databaseUrl!, DATABASE_SCHEMA: schema } : {}),
  };
  return {
    config,
    env: Object.fromEntries(Object.entries(config).map(([key, value]) => [`OPENLINQ_${key}`, value])),
    async cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      if (dialect === "postgres") await dropPostgresSchema(databaseUrl!, schema);
    },
  };
}
