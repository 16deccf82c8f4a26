import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type {
  OrganizationRepository,
  PhoneNumberRepository,
  TokenRepository,
  UserRepository,
} from "../core/ports.ts";
import type { Database } from "./schema.ts";
import type { SecretBox } from "./secret-box.ts";
import { isRowId, isUuid, phoneNumberRowToPhoneNumber, stamp, userRowToUser } from "./mappers.ts";
import { compiledOnce } from "./compiled-once.ts";

// Every V2 chat list resolves its number: compiled once (see compiled-once.ts).
const findNumberOfOrg = compiledOnce((db, a: { orgId: number; phoneNumber: string }) =>
  db.selectFrom("phone_numbers").selectAll().where("org_id", "=", a.orgId).where("phone_number", "=", a.phoneNumber),
);

export function organizationRepository(db: Kysely<Database>): OrganizationRepository {
  const toOrg = (row: { id: number; name: string; created_at: string }) => ({
    id: row.id,
    name: row.name,
    createdAt: new Date(row.created_at),
  });
  return {
    async create(name, now) {
      const row = await db
        .insertInto("organizations")
        .values({ name, created_at: stamp(now) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toOrg(row);
    },
    async first() {
      const row = await db.selectFrom("organizations").selectAll().orderBy("id").limit(1).executeTakeFirst();
      return row && toOrg(row);
    },
    async findById(id) {
      if (!isRowId(id)) return undefined;
      const row = await db.selectFrom("organizations").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toOrg(row);
    },
    async list() {
      const rows = await db.selectFrom("organizations").selectAll().orderBy("id").execute();
      return rows.map(toOrg);
    },
  };
}

export function userRepository(db: Kysely<Database>): UserRepository {
  return {
    async create(user, now) {
      const row = await db
        .insertInto("users")
        .values({
          org_id: user.orgId,
          email: user.email,
          first_name: user.firstName,
          last_name: user.lastName,
          role: user.role,
          created_at: stamp(now),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return userRowToUser(row);
    },
    async findByEmail(orgId, email) {
      const row = await db
        .selectFrom("users")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("email", "=", email.toLowerCase())
        .executeTakeFirst();
      return row && userRowToUser(row);
    },
    async findById(orgId, id) {
      if (!isRowId(id)) return undefined;
      const row = await db
        .selectFrom("users")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && userRowToUser(row);
    },
    async firstAdmin(orgId) {
      const row = await db
        .selectFrom("users")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("role", "=", "admin")
        .orderBy("id")
        .limit(1)
        .executeTakeFirst();
      return row && userRowToUser(row);
    },
  };
}

export function tokenRepository(db: Kysely<Database>, secrets: SecretBox): TokenRepository {
  return {
    async create(orgId, token, label, now) {
      await db
        .insertInto("api_tokens")
        .values({ org_id: orgId, token_hash: secrets.tokenHash(token), hash_kind: "hmac", label, created_at: stamp(now) })
        .execute();
    },
    async findByToken(token) {
      const row = await db
        .selectFrom("api_tokens")
        .select(["id", "org_id"])
        .where("token_hash", "=", secrets.tokenHash(token))
        .executeTakeFirst();
      return row && { orgId: row.org_id, tokenId: row.id };
    },
    async list(orgId) {
      const rows = await db
        .selectFrom("api_tokens")
        .select(["id", "org_id", "label", "created_at"])
        .where("org_id", "=", orgId)
        .orderBy("id")
        .execute();
      return rows.map((row) => ({ id: row.id, orgId: row.org_id, label: row.label, createdAt: new Date(row.created_at) }));
    },
    async delete(orgId, id) {
      if (!isRowId(id)) return false;
      const result = await db.deleteFrom("api_tokens").where("org_id", "=", orgId).where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async labelsForOrg(orgId) {
      const rows = await db.selectFrom("api_tokens").select("label").where("org_id", "=", orgId).orderBy("id").execute();
      return rows.map((row) => row.label);
    },
  };
}

export function phoneNumberRepository(db: Kysely<Database>): PhoneNumberRepository {
  return {
    async create(number, now) {
      const row = await db
        .insertInto("phone_numbers")
        .values({
          uuid: randomUUID(),
          org_id: number.orgId,
          user_id: number.userId,
          phone_number: number.phoneNumber,
          forwarding_number: null,
          // Linq's example value; we do not throttle sends per number.
          response_rate: 75,
          created_at: stamp(now),
          updated_at: stamp(now),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return phoneNumberRowToPhoneNumber(row);
    },
    async listByOrg(orgId) {
      const rows = await db.selectFrom("phone_numbers").selectAll().where("org_id", "=", orgId).orderBy("id").execute();
      return rows.map(phoneNumberRowToPhoneNumber);
    },
    async findById(orgId, id) {
      if (!isRowId(id)) return undefined;
      const row = await db
        .selectFrom("phone_numbers")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && phoneNumberRowToPhoneNumber(row);
    },
    async findByUuid(orgId, uuid) {
      if (!isUuid(uuid)) return undefined;
      const row = await db
        .selectFrom("phone_numbers")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("uuid", "=", uuid)
        .executeTakeFirst();
      return row && phoneNumberRowToPhoneNumber(row);
    },
    async findByUuidAnyOrg(uuid) {
      if (!isUuid(uuid)) return undefined;
      const row = await db.selectFrom("phone_numbers").selectAll().where("uuid", "=", uuid).executeTakeFirst();
      return row && phoneNumberRowToPhoneNumber(row);
    },
    async findByNumber(orgId, phoneNumber) {
      const [row] = (await findNumberOfOrg(db, { orgId, phoneNumber })).rows;
      return row && phoneNumberRowToPhoneNumber(row);
    },
    async findAnyByNumber(phoneNumber) {
      const row = await db
        .selectFrom("phone_numbers")
        .selectAll()
        .where("phone_number", "=", phoneNumber)
        .executeTakeFirst();
      return row && phoneNumberRowToPhoneNumber(row);
    },
    async setForwardingNumber(id, forwardingNumber, now) {
      const row = await db
        .updateTable("phone_numbers")
        .set({ forwarding_number: forwardingNumber, updated_at: stamp(now) })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return phoneNumberRowToPhoneNumber(row);
    },
    async setStanding(id, standing, now) {
      const row = await db
        .updateTable("phone_numbers")
        .set({ status: standing.status, reputation: standing.reputation, updated_at: stamp(now) })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return phoneNumberRowToPhoneNumber(row);
    },
  };
}
