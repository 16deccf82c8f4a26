import type { Kysely, Selectable } from "kysely";
import { DomainError } from "../core/errors.ts";
import type { AttachmentUpload, ContactCard } from "../core/model.ts";
import type { AttachmentUploadRepository, ContactCardRepository } from "../core/ports.ts";
import { isUniqueViolation } from "./database.ts";
import { flag, isUuid, stamp } from "./mappers.ts";
import type { AttachmentUploadTable, ContactCardTable, Database } from "./schema.ts";

function uploadRowToUpload(row: AttachmentUploadTable): AttachmentUpload {
  return {
    id: row.id,
    orgId: row.org_id,
    filename: row.filename,
    contentType: row.content_type,
    sizeBytes: Number(row.size_bytes),
    status: row.status as AttachmentUpload["status"],
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export function attachmentUploadRepository(db: Kysely<Database>): AttachmentUploadRepository {
  return {
    async create(upload, secretHash) {
      await db
        .insertInto("attachment_uploads")
        .values({
          id: upload.id,
          org_id: upload.orgId,
          filename: upload.filename,
          content_type: upload.contentType,
          size_bytes: upload.sizeBytes,
          status: upload.status,
          upload_secret_hash: secretHash,
          expires_at: stamp(upload.expiresAt),
          created_at: stamp(upload.createdAt),
          updated_at: stamp(upload.updatedAt),
        })
        .execute();
    },
    async findById(orgId, id) {
      if (!isUuid(id)) return undefined;
      const row = await db
        .selectFrom("attachment_uploads")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && uploadRowToUpload(row);
    },
    async findWithSecret(id) {
      if (!isUuid(id)) return undefined;
      const row = await db.selectFrom("attachment_uploads").selectAll().where("id", "=", id).executeTakeFirst();
      return row && { upload: uploadRowToUpload(row), secretHash: row.upload_secret_hash };
    },
    async setStatus(id, status, now) {
      await db
        .updateTable("attachment_uploads")
        .set({ status, updated_at: stamp(now) })
        .where("id", "=", id)
        .execute();
    },
    async delete(id) {
      await db.deleteFrom("attachment_uploads").where("id", "=", id).execute();
    },
  };
}

type CardRow = Selectable<ContactCardTable> & { phone_number: string };

function cardRowToCard(row: CardRow): ContactCard {
  return {
    orgId: row.org_id,
    phoneNumberId: row.phone_number_id,
    phoneNumber: row.phone_number,
    firstName: row.first_name,
    lastName: row.last_name,
    imageUrl: row.image_url,
    isActive: row.is_active === 1,
  };
}

export function contactCardRepository(db: Kysely<Database>): ContactCardRepository {
  const select = () =>
    db
      .selectFrom("contact_cards")
      .innerJoin("phone_numbers", "phone_numbers.id", "contact_cards.phone_number_id")
      .selectAll("contact_cards")
      .select("phone_numbers.phone_number as phone_number");
  return {
    async list(orgId, phoneNumberId) {
      let query = select().where("contact_cards.org_id", "=", orgId);
      if (phoneNumberId !== undefined) query = query.where("contact_cards.phone_number_id", "=", phoneNumberId);
      const rows = await query.orderBy("contact_cards.id").execute();
      return rows.map((r) => cardRowToCard(r));
    },
    async findByPhoneNumber(phoneNumberId) {
      const row = await select().where("contact_cards.phone_number_id", "=", phoneNumberId).executeTakeFirst();
      return row && cardRowToCard(row);
    },
    async create(card, now) {
      try {
        await db
          .insertInto("contact_cards")
          .values({
            org_id: card.orgId,
            phone_number_id: card.phoneNumberId,
            first_name: card.firstName,
            last_name: card.lastName,
            image_url: card.imageUrl,
            is_active: flag(card.isActive),
            created_at: stamp(now),
            updated_at: stamp(now),
          })
          .execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError("contact_card_exists", "This number already has a contact card");
        throw error;
      }
    },
    async update(phoneNumberId, changes, now) {
      await db
        .updateTable("contact_cards")
        .set({
          ...(changes.firstName !== undefined ? { first_name: changes.firstName } : {}),
          ...(changes.lastName !== undefined ? { last_name: changes.lastName } : {}),
          ...(changes.imageUrl !== undefined ? { image_url: changes.imageUrl } : {}),
          updated_at: stamp(now),
        })
        .where("phone_number_id", "=", phoneNumberId)
        .execute();
    },
  };
}
