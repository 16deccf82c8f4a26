import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import { normalizeHandle } from "../handles.ts";
import type { Organization, PhoneNumber } from "../model.ts";

/**
 * Provisioning: what Linq staff do for a partner ("contact your representative").
 * Reached through the `openlinq` CLI, never through the partner API.
 */

export async function createOrganization(
  deps: Pick<CoreDeps, "store" | "clock">,
  name: string,
  admin: { email: string; firstName: string; lastName: string } = {
    email: "admin@openlinq.local",
    firstName: "openlinq",
    lastName: "Admin",
  },
): Promise<Organization> {
  if (name.trim() === "") throw new DomainError("validation_failed", "organization name must not be empty");
  return deps.store.transaction(async (tx) => {
    const now = deps.clock.now();
    const org = await tx.organizations.create(name.trim(), now);
    await tx.users.create({ orgId: org.id, role: "admin", ...admin, email: admin.email.toLowerCase() }, now);
    return org;
  });
}

async function resolveOrg(deps: Pick<CoreDeps, "store">, orgId: number | undefined): Promise<Organization> {
  const org =
    orgId === undefined ? await deps.store.read.organizations.first() : await deps.store.read.organizations.findById(orgId);
  if (!org) {
    throw new DomainError(
      "validation_failed",
      orgId === undefined ? "no organization exists yet: start openlinq once or run `openlinq orgs create`" : `organization ${orgId} does not exist`,
    );
  }
  return org;
}

/** Makes `token` valid for the org (idempotent); a new random token when none is given. */
export async function createToken(
  deps: Pick<CoreDeps, "store" | "clock" | "ids">,
  options: { orgId?: number | undefined; token?: string | undefined; label?: string | undefined } = {},
): Promise<{ token: string; orgId: number; created: boolean }> {
  const org = await resolveOrg(deps, options.orgId);
  const token = options.token ?? `olq_${deps.ids.secret(24)}`;
  const existing = await deps.store.read.tokens.findByToken(token);
  if (existing) {
    if (existing.orgId !== org.id) {
      throw new DomainError("conflict", "that token already belongs to another organization");
    }
    return { token, orgId: org.id, created: false };
  }
  await deps.store.transaction((tx) => tx.tokens.create(org.id, token, options.label ?? "cli", deps.clock.now()));
  return { token, orgId: org.id, created: true };
}

/**
 * Revokes one of the org's tokens: its row is deleted, so it stops working at once on this
 * node and, once the caller tells the auth caches (see authPlugin's `revoked`), on every node.
 * A token configured as OPENLINQ_TOKEN is made valid again by the next start with it.
 */
export async function revokeToken(deps: Pick<CoreDeps, "store">, orgId: number, tokenId: number): Promise<void> {
  const deleted = await deps.store.transaction((tx) => tx.tokens.delete(orgId, tokenId));
  if (!deleted) throw new DomainError("token_not_found", `Token ${tokenId} not found`);
}

/** Provisions one of our numbers for the org; numbers are unique across organizations. */
export async function addPhoneNumber(
  deps: Pick<CoreDeps, "store" | "clock">,
  input: string,
  orgId?: number,
): Promise<{ number: PhoneNumber; created: boolean }> {
  const normalized = normalizeHandle(input, "phone number", false);
  const org = await resolveOrg(deps, orgId);
  const existing = await deps.store.read.phoneNumbers.findAnyByNumber(normalized);
  if (existing) {
    if (existing.orgId !== org.id) {
      throw new DomainError("conflict", `${normalized} already belongs to organization ${existing.orgId}`);
    }
    return { number: existing, created: false };
  }
  return deps.store.transaction(async (tx) => {
    const admin = await tx.users.firstAdmin(org.id);
    if (!admin) throw new DomainError("validation_failed", `organization ${org.id} has no admin user`);
    return { number: await tx.phoneNumbers.create({ orgId: org.id, userId: admin.id, phoneNumber: normalized }, deps.clock.now()), created: true };
  });
}

export interface BootstrapResult {
  organization: Organization;
  /** False when the organization existed before this start (an earlier start, or `openlinq orgs create`). */
  organizationCreated: boolean;
  /** The token to print: the configured one, or one created now. Undefined when an earlier start or the CLI created it. */
  token: string | undefined;
  tokenCreated: boolean;
  /**
   * Where the organization's tokens came from when none is printed, by the label they were
   * created with ("cli", "first start", "OPENLINQ_TOKEN"), oldest first; empty otherwise.
   */
  earlierTokenLabels: string[];
  phoneNumbers: PhoneNumber[];
  /** Configured numbers this start added (so the banner can say so). */
  phoneNumbersAdded: string[];
}

/**
 * First start: one organization, its admin user, the configured numbers and a token.
 * Later starts keep every row; a configured token is (re)made valid, configured numbers are added.
 */
export async function bootstrap(
  deps: Pick<CoreDeps, "store" | "clock" | "ids">,
  options: { token: string | undefined; phoneNumbers: readonly string[] },
): Promise<BootstrapResult> {
  let organization = await deps.store.read.organizations.first();
  const organizationCreated = !organization;
  if (!organization) organization = await createOrganization(deps, "Default organization");
  const phoneNumbersAdded: string[] = [];
  for (const number of options.phoneNumbers) {
    const existing = await deps.store.read.phoneNumbers.findAnyByNumber(number);
    if (!existing) phoneNumbersAdded.push((await addPhoneNumber(deps, number, organization.id)).number.phoneNumber);
  }
  let token: string | undefined;
  let tokenCreated = false;
  let earlierTokenLabels: string[] = [];
  if (options.token !== undefined) {
    const result = await createToken(deps, { orgId: organization.id, token: options.token, label: "OPENLINQ_TOKEN" });
    token = result.token;
    tokenCreated = result.created;
  } else {
    earlierTokenLabels = await deps.store.read.tokens.labelsForOrg(organization.id);
    if (earlierTokenLabels.length === 0) {
      const result = await createToken(deps, { orgId: organization.id, label: "first start" });
      token = result.token;
      tokenCreated = true;
    }
  }
  return {
    organization,
    organizationCreated,
    token,
    tokenCreated,
    earlierTokenLabels,
    phoneNumbers: await deps.store.read.phoneNumbers.listByOrg(organization.id),
    phoneNumbersAdded,
  };
}
