import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { dropPostgresSchema, openStorage, type StorageHandle } from "../src/storage/database.ts";

const url = process.env.TEST_DATABASE_URL;

/** What the server holds prepared for the session that runs this query. */
async function preparedHere(storage: StorageHandle): Promise<string[]> {
  const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(storage.db);
  return rows.map((r) => r.statement);
}

describe("Postgres prepared statements", { skip: !url && "TEST_DATABASE_URL not set" }, () => {
  const schema = `prep_${randomBytes(5).toString("hex")}`;
  let storage: StorageHandle;

  before(async () => {
    storage = openStorage({ kind: "postgres", url: url!, schema });
    await storage.migrate();
  });
  after(async () => {
    await storage.destroy();
    await dropPostgresSchema(url!, schema);
  });

  it("prepares a query the second time it runs on a connection, not the first, and the result is the same", async () => {
    // One connection for the whole check, so "the second time" happens on the same session.
    await storage.db.connection().execute(async (db) => {
      const onSession = { ...storage, db } as StorageHandle;
      const find = (id: number) => db.selectFrom("organizations").select(["id", "name"]).where("id", "=", id).execute();
      const first = await find(1);
      let prepared = await preparedHere(onSession);
      assert.ok(!prepared.some((s) => s.includes('from "organizations"')), "a text seen once stays unnamed");
      const second = await find(1);
      prepared = await preparedHere(onSession);
      assert.ok(prepared.some((s) => s.includes('from "organizations"')), "a text seen twice is prepared");
      assert.deepEqual(await find(1), first);
      assert.deepEqual(second, first);
    });
  });

  it("leaves batch statements (more than 32 parameters) unnamed, since their text changes with the batch size", async () => {
    await storage.db.connection().execute(async (db) => {
      const onSession = { ...storage, db } as StorageHandle;
      const ids = Array.from({ length: 40 }, (_, i) => i + 1);
      const batch = () => db.selectFrom("organizations").select("id").where("id", "in", ids).execute();
      await batch();
      await batch();
      const prepared = await preparedHere(onSession);
      assert.ok(!prepared.some((s) => s.includes("$40")), "a 40-parameter statement stays unnamed");
    });
  });
});
