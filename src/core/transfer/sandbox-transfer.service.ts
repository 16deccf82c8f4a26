import { DomainError } from "../errors.ts";
import type { Clock, FileStore } from "../ports.ts";
import {
  SANDBOX_FORMAT,
  SANDBOX_VERSION,
  validateSandboxFile,
  type SandboxFile,
  type SandboxOrganization,
} from "./sandbox-file.ts";

/**
 * Export and import of sandbox state (sandbox-file.ts). Import validates the whole file
 * first, checks that every target organization is empty and that no id of the file is taken,
 * stages the attachment files, then writes everything in one transaction; the files join the
 * store only after it committed, and a failure leaves the store as it was.
 */

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** One organization of the file and the organization of the store it goes into. */
export interface ImportTarget {
  organization: SandboxOrganization;
  intoOrgId: number;
}

/** What the storage adapter does for export and import (src/storage/sandbox-transfer.repository.ts). */
export interface SandboxTransferStore {
  /** Every organization's id, oldest first. */
  organizationIds(): Promise<number[]>;
  /**
   * One organization's rows (undefined when it does not exist). Attachments come with
   * `storage_key` instead of `data`; subscriptions' secrets are read through the subscription
   * repository and left out (null) unless `secrets`.
   */
  exportOrganization(orgId: number, options: { secrets: boolean }): Promise<SandboxOrganization | undefined>;
  /**
   * Throws DomainError("conflict") naming the first reason an import cannot go in: a target
   * organization with content (chats, messages, contacts, webhook subscriptions, profiles,
   * calls, contact cards), or an id, UUID or phone number of the file held by another.
   */
  checkImport(targets: readonly ImportTarget[]): Promise<void>;
  /**
   * In one transaction: checks again, creates missing organizations, replaces each target's
   * users and phone numbers with the file's and writes its rows with their ids (attachments
   * keyed by their id). Any clash found while writing is a conflict too.
   */
  importOrganizations(targets: readonly ImportTarget[]): Promise<void>;
}

export interface TransferDeps {
  transfer: SandboxTransferStore;
  files: FileStore;
  clock: Clock;
}

export interface ImportSummary {
  organizations: { id: number; chats: number; messages: number; attachments: number; contacts: number; webhook_subscriptions: number }[];
}

/** The organizations' state as a sandbox file (all of them when `orgIds` is undefined). */
export async function exportSandbox(deps: TransferDeps, options: { orgIds?: readonly number[]; secrets: boolean }): Promise<SandboxFile> {
  const ids = options.orgIds ?? (await deps.transfer.organizationIds());
  const organizations: SandboxOrganization[] = [];
  for (const id of ids) {
    const org = await deps.transfer.exportOrganization(id, { secrets: options.secrets });
    if (!org) throw new DomainError("validation_failed", `organization ${id} does not exist`, { field: "org" });
    const attachments = [];
    for (const { storage_key: key, ...row } of org.tables.attachments) {
      attachments.push({ ...row, data: Buffer.from(await deps.files.read(String(key))).toString("base64") });
    }
    organizations.push({ ...org, tables: { ...org.tables, attachments } });
  }
  return {
    format: SANDBOX_FORMAT,
    version: SANDBOX_VERSION,
    exported_at: deps.clock.now().toISOString(),
    secrets_included: options.secrets,
    organizations,
  };
}

/**
 * Imports a parsed sandbox file. `intoOrgId` set (the HTTP face: the caller's organization):
 * the file must hold exactly one organization, which goes there. Unset (the CLI): each goes
 * to the organization with its own id, created when missing.
 */
export async function importSandbox(deps: TransferDeps, input: unknown, options: { intoOrgId?: number } = {}): Promise<ImportSummary> {
  const file = validateSandboxFile(input);
  if (options.intoOrgId !== undefined && file.organizations.length !== 1) {
    throw new DomainError(
      "validation_failed",
      `a file imported over the API holds exactly one organization (this one has ${file.organizations.length}); use openlinq import for several`,
      { field: "organizations" },
    );
  }
  const targets: ImportTarget[] = file.organizations.map((organization) => ({
    organization,
    intoOrgId: options.intoOrgId ?? organization.organization.id,
  }));
  await deps.transfer.checkImport(targets);

  const staged: { key: string; id: string }[] = [];
  try {
    for (const { organization } of targets) {
      for (const attachment of organization.tables.attachments) {
        const bytes = Buffer.from(String(attachment.data), "base64");
        const file = await deps.files.stage(once(bytes), { maxBytes: bytes.byteLength, what: `attachment ${String(attachment.id)}` });
        staged.push({ key: file.key, id: String(attachment.id) });
      }
    }
    await deps.transfer.importOrganizations(targets);
  } catch (error) {
    await Promise.all(staged.map((file) => deps.files.discard(file.key).catch(() => undefined)));
    throw error;
  }
  for (const file of staged) await deps.files.adopt(file.key, file.id);
  return {
    organizations: targets.map(({ organization: { tables }, intoOrgId }) => ({
      id: intoOrgId,
      chats: tables.chats.length,
      messages: tables.messages.length,
      attachments: tables.attachments.length,
      contacts: tables.contacts.length,
      webhook_subscriptions: tables.webhook_subscriptions.length,
    })),
  };
}
