import type { Kysely } from "kysely";
import type { ContactOwner } from "../core/model.ts";
import type { ContactFields, ContactRepository } from "../core/ports.ts";
import { contactRowToContact, isRowId, pageWindow, stamp } from "./mappers.ts";
import type { ContactRow, ContactUpdate, Database } from "./schema.ts";
import { anyOf, compiledOnce } from "./compiled-once.ts";

// Every chat load asks it (list pages, the send path): compiled once for any number of handles (anyOf).
const contactsOfHandles = compiledOnce((db, a: { orgId: number; handles: readonly string[] }) =>
  db
    .selectFrom("contacts")
    .select(["phone_number", "email", "first_name", "last_name"])
    .where("org_id", "=", a.orgId)
    .where((eb) => eb.or([anyOf(db, "phone_number", a.handles), anyOf(db, "email", a.handles)]))
    .orderBy("id"),
);

export function contactRepository(db: Kysely<Database>): ContactRepository {
  async function withOwners(rows: ContactRow[]) {
    const ownerIds = [...new Set(rows.map((r) => r.owner_user_id).filter((id): id is number => id !== null))];
    const owners = new Map<number, ContactOwner>();
    if (ownerIds.length > 0) {
      const users = await db.selectFrom("users").selectAll().where("id", "in", ownerIds).execute();
      for (const u of users) {
        owners.set(u.id, { id: u.id, email: u.email, firstName: u.first_name, lastName: u.last_name });
      }
    }
    return rows.map((row) =>
      contactRowToContact(row, row.owner_user_id === null ? null : (owners.get(row.owner_user_id) ?? null)),
    );
  }
  const fieldColumns = (fields: Partial<ContactFields>): ContactUpdate => ({
    ...(fields.firstName !== undefined ? { first_name: fields.firstName } : {}),
    ...(fields.lastName !== undefined ? { last_name: fields.lastName } : {}),
    ...(fields.email !== undefined ? { email: fields.email } : {}),
    ...(fields.phoneNumber !== undefined ? { phone_number: fields.phoneNumber } : {}),
    ...(fields.company !== undefined ? { company: fields.company } : {}),
    ...(fields.title !== undefined ? { title: fields.title } : {}),
    ...(fields.location !== undefined ? { location: fields.location } : {}),
  });

  return {
    async create(orgId, ownerUserId, fields, now) {
      const row = await db
        .insertInto("contacts")
        .values({
          org_id: orgId,
          owner_user_id: ownerUserId,
          first_name: fields.firstName,
          last_name: fields.lastName,
          email: fields.email,
          phone_number: fields.phoneNumber,
          company: fields.company,
          title: fields.title,
          location: fields.location,
          image_url: null,
          created_at: stamp(now),
          updated_at: stamp(now),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const [contact] = await withOwners([row]);
      return contact!;
    },
    async findById(orgId, id) {
      if (!isRowId(id)) return undefined;
      const row = await db
        .selectFrom("contacts")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("id", "=", id)
        .executeTakeFirst();
      if (!row) return undefined;
      const [contact] = await withOwners([row]);
      return contact;
    },
    async list(orgId, page) {
      const window = pageWindow(page);
      const [rows, count] = await Promise.all([
        window
          ? db
              .selectFrom("contacts")
              .selectAll()
              .where("org_id", "=", orgId)
              .orderBy("id")
              .limit(window.limit)
              .offset(window.offset)
              .execute()
          : [],
        db
          .selectFrom("contacts")
          .select((eb) => eb.fn.countAll<number>().as("count"))
          .where("org_id", "=", orgId)
          .executeTakeFirstOrThrow(),
      ]);
      return { items: await withOwners(rows), total: Number(count.count) };
    },
    async update(orgId, id, changes, now) {
      const row = await db
        .updateTable("contacts")
        .set({
          ...fieldColumns(changes),
          ...(changes.ownerUserId !== undefined ? { owner_user_id: changes.ownerUserId } : {}),
          updated_at: stamp(now),
        })
        .where("org_id", "=", orgId)
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const [contact] = await withOwners([row]);
      return contact!;
    },
    async delete(orgId, id) {
      await db.deleteFrom("contacts").where("org_id", "=", orgId).where("id", "=", id).execute();
    },
    async find(orgId, by) {
      if (by.email === undefined && by.phoneNumber === undefined) return undefined;
      const row = await db
        .selectFrom("contacts")
        .selectAll()
        .where("org_id", "=", orgId)
        .where((eb) =>
          eb.or([
            ...(by.email !== undefined ? [eb("email", "=", by.email)] : []),
            ...(by.phoneNumber !== undefined ? [eb("phone_number", "=", by.phoneNumber)] : []),
          ]),
        )
        .orderBy("id")
        .limit(1)
        .executeTakeFirst();
      if (!row) return undefined;
      const [contact] = await withOwners([row]);
      return contact;
    },
    async namesFor(orgId, handles) {
      const names = new Map<string, string>();
      if (handles.length === 0) return names;
      const wanted = [...new Set(handles)];
      const { rows } = await contactsOfHandles(db, { orgId, handles: wanted });
      const set = new Set(wanted);
      for (const row of rows) {
        const name = `${row.first_name} ${row.last_name}`.trim();
        if (name === "") continue;
        for (const handle of [row.phone_number, row.email]) {
          if (set.has(handle) && !names.has(handle)) names.set(handle, name);
        }
      }
      return names;
    },
  };
}
