import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";
import type { SecretBox } from "./secret-box.ts";
import { stamp } from "./mappers.ts";

/** The database's secrets were sealed with another key than this process's. */
export class SecretKeyMismatchError extends Error {
  constructor(
    readonly storedFingerprint: string,
    readonly ourFingerprint: string,
  ) {
    super(`the database's secrets were sealed with key ${storedFingerprint}, this process has key ${ourFingerprint}`);
  }
}

/**
 * Run at every start, after the migrations, in one transaction:
 * - the first start records the key's fingerprint; later starts (any node) must have that key,
 *   or nothing is written and SecretKeyMismatchError says so (a node with a key of its own
 *   would hash tokens and seal secrets that no other node can read);
 * - webhook secrets still in plaintext (rows from earlier versions) are sealed;
 * - tokens still stored as plain SHA-256 are rekeyed to the HMAC.
 * Returns how many rows it rewrote (0 and 0 once a data dir has been migrated).
 */
export async function secureStoredSecrets(
  db: Kysely<Database>,
  secrets: SecretBox,
  now: Date,
): Promise<{ sealedSecrets: number; rekeyedTokens: number }> {
  return db.transaction().execute(async (trx) => {
    // Two nodes starting at once on a fresh database: the second insert waits for the
    // first's commit and then does nothing, so both compare against the same fingerprint.
    await trx
      .insertInto("secret_key_fingerprint")
      .values({ id: 1, fingerprint: secrets.fingerprint, created_at: stamp(now) })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    const stored = await trx.selectFrom("secret_key_fingerprint").select("fingerprint").where("id", "=", 1).executeTakeFirstOrThrow();
    if (stored.fingerprint !== secrets.fingerprint) throw new SecretKeyMismatchError(stored.fingerprint, secrets.fingerprint);

    const plaintext = await trx
      .selectFrom("webhook_subscriptions")
      .select(["id", "secret"])
      .where("secret", "is not", null)
      .execute();
    for (const row of plaintext) {
      await trx
        .updateTable("webhook_subscriptions")
        .set({ sealed_secret: secrets.seal(row.secret!), secret: null })
        .where("id", "=", row.id)
        .execute();
    }

    const legacy = await trx.selectFrom("api_tokens").select(["id", "token_hash"]).where("hash_kind", "=", "sha256").execute();
    for (const row of legacy) {
      await trx
        .updateTable("api_tokens")
        .set({ token_hash: secrets.rehashLegacyTokenHash(row.token_hash), hash_kind: "hmac" })
        .where("id", "=", row.id)
        .execute();
    }
    return { sealedSecrets: plaintext.length, rekeyedTokens: legacy.length };
  });
}
