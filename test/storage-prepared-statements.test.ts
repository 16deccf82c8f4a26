import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { dropPostgresSchema, isUniqueViolation, openStorage, type StorageHandle } from "../src/storage/database.ts";

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

  // The `begin` of a transaction travels with its first statement (one round trip for both).
  describe("transactions", () => {
    const names = async (prefix: string) =>
      (await storage.db.selectFrom("organizations").select("name").where("name", "like", `${prefix}%`).orderBy("name").execute()).map((r) => r.name);
    const addOrg = (db: typeof storage.db, name: string, id?: number) =>
      db.insertInto("organizations").values({ ...(id === undefined ? {} : { id }), name, created_at: "2026-12-02T12:00:00.000Z" }).execute();
    /** An organization's id, taken: inserting it again fails. */
    let taken: number;
    before(async () => {
      const row = await storage.db.insertInto("organizations").values({ name: "taken", created_at: "2026-12-02T12:00:00.000Z" }).returning("id").executeTakeFirstOrThrow();
      taken = row.id;
    });

    it("commit their statements together, and a failure rolls back the first statement too", async () => {
      // Several times on one connection: the statements run unnamed, then prepared.
      await storage.db.connection().execute(async (db) => {
        for (let round = 0; round < 4; round++) {
          await assert.rejects(
            db.transaction().execute(async (trx) => {
              await addOrg(trx, `rolled-back-${round}`);
              await addOrg(trx, `duplicate-${round}`, taken);
            }),
            (error) => isUniqueViolation(error),
          );
          await db.transaction().execute(async (trx) => {
            await addOrg(trx, `kept-${round}-a`);
            await addOrg(trx, `kept-${round}-b`);
          });
        }
      });
      assert.deepEqual(await names("rolled-back-"), []);
      assert.deepEqual(await names("kept-"), ["kept-0-a", "kept-0-b", "kept-1-a", "kept-1-b", "kept-2-a", "kept-2-b", "kept-3-a", "kept-3-b"]);
    });

    it("whose first statement fails leave the connection usable, and empty ones commit nothing", async () => {
      await storage.db.connection().execute(async (db) => {
        for (let round = 0; round < 4; round++) {
          await assert.rejects(
            db.transaction().execute((trx) => addOrg(trx, `first-fails-${round}`, taken)),
            (error) => isUniqueViolation(error),
          );
          await db.transaction().execute(async () => undefined);
          await db.transaction().setIsolationLevel("serializable").execute((trx) => addOrg(trx, `after-failure-${round}`));
        }
        // A first statement the server cannot even parse, often enough to be prepared:
        // each time its own error, never a prepared statement that went missing.
        for (let round = 0; round < 4; round++) {
          await assert.rejects(
            db.transaction().execute((trx) => sql`select no_such_column from organizations where id = ${taken}`.execute(trx)),
            /no_such_column/,
          );
        }
        const inOne = await db.transaction().execute(async (trx) => {
          const first = await sql<{ id: string }>`select txid_current()::text as id`.execute(trx);
          const second = await sql<{ id: string }>`select txid_current()::text as id`.execute(trx);
          return [first.rows[0]!.id, second.rows[0]!.id];
        });
        assert.equal(inOne[0], inOne[1], "both statements ran in one transaction");
      });
      assert.deepEqual(await names("first-fails-"), []);
      assert.deepEqual(await names("after-failure-"), ["after-failure-0", "after-failure-1", "after-failure-2", "after-failure-3"]);
    });
  });
});
