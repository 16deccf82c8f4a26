import { DomainError } from "../errors.ts";

/**
 * The sandbox file: an organization's state, carried from one openlinq to another (a bug
 * report, a CI fixture). Rows keep their ids, uuids and times, so an import into an empty
 * store answers every API request exactly as the exported store did.
 *
 * Version 1 holds, per organization, its rows by table with the stored column names (minus
 * `org_id`, implied): users, phone_numbers, contact_cards, contacts, chats, chat_handles,
 * messages, attachments (each with its bytes as base64 `data`), reactions, handle_profiles
 * (simulator profiles), calls and webhook_subscriptions (`secret` null unless exported with
 * secrets). Not carried: tokens, the event and delivery log, queued work (sends, planned
 * receipts), faults and scenarios. A reader refuses other versions; a change to the format
 * bumps the version.
 */

export const SANDBOX_FORMAT = "openlinq-sandbox";
export const SANDBOX_VERSION = 1;

type ColumnType = "int" | "int?" | "num" | "text" | "text?";
export type SandboxRow = Record<string, string | number | null>;

/** Every table of a sandbox organization and its columns, in insert order (parents first). */
export const SANDBOX_TABLES = {
  users: { id: "int", email: "text", first_name: "text", last_name: "text", role: "text", created_at: "text" },
  phone_numbers: {
    id: "int",
    uuid: "text",
    user_id: "int",
    phone_number: "text",
    forwarding_number: "text?",
    response_rate: "num",
    created_at: "text",
    updated_at: "text",
  },
  contact_cards: {
    id: "int",
    phone_number_id: "int",
    first_name: "text",
    last_name: "text?",
    image_url: "text?",
    is_active: "int",
    created_at: "text",
    updated_at: "text",
  },
  contacts: {
    id: "int",
    owner_user_id: "int?",
    first_name: "text",
    last_name: "text",
    email: "text",
    phone_number: "text",
    company: "text",
    title: "text",
    location: "text",
    image_url: "text?",
    created_at: "text",
    updated_at: "text",
  },
  chats: {
    id: "int",
    uuid: "text",
    phone_number_id: "int",
    display_name: "text?",
    service: "text",
    is_group: "int",
    participants_key: "text",
    group_chat_icon: "text?",
    message_count: "int",
    last_activity_at: "text",
    created_at: "text",
    updated_at: "text",
  },
  chat_handles: {
    id: "int",
    uuid: "text",
    chat_id: "int",
    handle: "text",
    service: "text",
    is_me: "int",
    joined_at: "text",
    left_at: "text?",
  },
  messages: {
    id: "int",
    uuid: "text",
    chat_id: "int",
    chat_handle_id: "int",
    is_from_me: "int",
    text: "text",
    sent_at: "text",
    delivered_at: "text?",
    delivery_status: "text",
    edited_at: "text?",
    is_read: "int",
    read_at: "text?",
    idempotency_key: "text?",
    created_at: "text",
    parts: "text?",
    effect: "text?",
    reply_to_uuid: "text?",
    reply_to_part_index: "int?",
    preferred_service: "text?",
    carrier_message_id: "text?",
  },
  attachments: {
    id: "text",
    message_id: "int",
    filename: "text",
    mime_type: "text",
    file_size: "int",
    position: "int",
    created_at: "text",
    /** The file's bytes, base64. */
    data: "text",
  },
  reactions: {
    id: "int",
    message_id: "int",
    chat_handle_id: "int",
    reaction: "text",
    custom_emoji: "text?",
    part_index: "int",
    is_from_me: "int",
    from_phone: "text",
    sent_at: "text",
    created_at: "text",
    updated_at: "text",
  },
  handle_profiles: {
    id: "int",
    handle: "text",
    service: "text",
    reachable: "int",
    latency_ms: "int",
    jitter_ms: "int",
    read_after_ms: "int?",
    auto_reply: "text",
    auto_reaction: "text?",
    script_position: "int",
    created_at: "text",
    updated_at: "text",
  },
  calls: {
    id: "int",
    phone_number_id: "int",
    direction: "text",
    from_handle: "text",
    to_handle: "text",
    status: "text",
    started_at: "text",
    ended_at: "text",
    duration_seconds: "int",
    answered_by: "text?",
    forwarded_from: "text?",
    voicemail: "int",
    recording: "text?",
    created_at: "text",
  },
  webhook_subscriptions: {
    id: "int",
    uuid: "text",
    webhook_url: "text",
    version: "int",
    events: "text",
    active: "int",
    secret: "text?",
    /** JSON array of the lines whose events it gets; null: every line. */
    phone_numbers: "text?",
    delivery_attempts: "int",
    last_delivered_at: "text?",
    created_at: "text",
    updated_at: "text",
  },
} as const satisfies Record<string, Record<string, ColumnType>>;

export type SandboxTable = keyof typeof SANDBOX_TABLES;
export const SANDBOX_TABLE_NAMES = Object.keys(SANDBOX_TABLES) as SandboxTable[];

/** Columns that name a row of another table of the same organization: [table, column, target]. */
const REFERENCES: readonly [SandboxTable, string, SandboxTable][] = [
  ["phone_numbers", "user_id", "users"],
  ["contact_cards", "phone_number_id", "phone_numbers"],
  ["contacts", "owner_user_id", "users"],
  ["chats", "phone_number_id", "phone_numbers"],
  ["chat_handles", "chat_id", "chats"],
  ["messages", "chat_id", "chats"],
  ["messages", "chat_handle_id", "chat_handles"],
  ["attachments", "message_id", "messages"],
  ["reactions", "message_id", "messages"],
  ["reactions", "chat_handle_id", "chat_handles"],
  ["calls", "phone_number_id", "phone_numbers"],
];

export interface SandboxOrganization {
  organization: { id: number; name: string; created_at: string };
  tables: Record<SandboxTable, SandboxRow[]>;
}

export interface SandboxFile {
  format: typeof SANDBOX_FORMAT;
  version: typeof SANDBOX_VERSION;
  exported_at: string;
  /** Whether webhook subscriptions carry their secrets. */
  secrets_included: boolean;
  organizations: SandboxOrganization[];
}

/** Text columns that hold JSON. */
const JSON_COLUMNS: Partial<Record<SandboxTable, string[]>> = {
  messages: ["parts", "effect"],
  handle_profiles: ["auto_reply", "auto_reaction"],
  calls: ["recording"],
  webhook_subscriptions: ["events", "phone_numbers"],
};

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The problems a file shows at most in one error (the first ones). */
const MAX_PROBLEMS = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function typeProblem(value: unknown, type: ColumnType): string | undefined {
  const optional = type.endsWith("?");
  if (value === null) return optional ? undefined : "must not be null";
  if (value === undefined) return "is missing";
  switch (type) {
    case "int":
    case "int?":
      return Number.isSafeInteger(value) ? undefined : "must be an integer";
    case "num":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "must be a number";
    default:
      return typeof value === "string" ? undefined : "must be a string";
  }
}

/**
 * Checks a parsed sandbox file completely before anything is written: its format and
 * version, every row's columns and types, ids unique per table, references that resolve
 * within the organization, attachment ids and bytes. Throws validation_failed listing the
 * first problems, each with its path (`organizations[0].messages[3].chat_id: …`).
 */
export function validateSandboxFile(input: unknown): SandboxFile {
  const problems: string[] = [];
  const problem = (path: string, text: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(`${path}: ${text}`);
  };
  const fail = () =>
    new DomainError("validation_failed", `not a usable sandbox file: ${problems.join("; ")}`, { field: "file" });

  if (!isObject(input)) {
    problem("(file)", "must be a JSON object");
    throw fail();
  }
  if (input.format !== SANDBOX_FORMAT) problem("format", `must be "${SANDBOX_FORMAT}"`);
  if (input.version !== SANDBOX_VERSION) {
    problem("version", `must be ${SANDBOX_VERSION} (this openlinq reads version ${SANDBOX_VERSION}; got ${JSON.stringify(input.version)})`);
  }
  if (typeof input.secrets_included !== "boolean") problem("secrets_included", "must be true or false");
  if (!Array.isArray(input.organizations)) problem("organizations", "must be an array");
  if (problems.length > 0) throw fail();

  const organizations: SandboxOrganization[] = [];
  const orgIds = new Set<number>();
  (input.organizations as unknown[]).forEach((entry, o) => {
    const at = `organizations[${o}]`;
    if (!isObject(entry) || !isObject(entry.organization)) {
      problem(at, "must be an object with organization and the tables");
      return;
    }
    const org = entry.organization;
    if (!Number.isSafeInteger(org.id) || (org.id as number) < 1) problem(`${at}.organization.id`, "must be a positive integer");
    else if (orgIds.has(org.id as number)) problem(`${at}.organization.id`, `organization ${String(org.id)} appears twice`);
    else orgIds.add(org.id as number);
    if (typeof org.name !== "string") problem(`${at}.organization.name`, "must be a string");
    if (typeof org.created_at !== "string") problem(`${at}.organization.created_at`, "must be a string");

    const tables = {} as Record<SandboxTable, SandboxRow[]>;
    const ids = {} as Record<SandboxTable, Set<unknown>>;
    for (const table of SANDBOX_TABLE_NAMES) {
      const rows = entry[table] ?? [];
      ids[table] = new Set();
      if (!Array.isArray(rows)) {
        problem(`${at}.${table}`, "must be an array");
        tables[table] = [];
        continue;
      }
      const columns = SANDBOX_TABLES[table] as Record<string, ColumnType>;
      rows.forEach((row: unknown, r) => {
        const rowAt = `${at}.${table}[${r}]`;
        if (!isObject(row)) {
          problem(rowAt, "must be an object");
          return;
        }
        for (const [column, type] of Object.entries(columns)) {
          const wrong = typeProblem(row[column], type);
          if (wrong) problem(`${rowAt}.${column}`, wrong);
        }
        for (const column of Object.keys(row)) {
          if (!(column in columns)) problem(`${rowAt}.${column}`, "is not a column of this table");
        }
        for (const column of JSON_COLUMNS[table] ?? []) {
          if (typeof row[column] === "string" && !parsesAsJson(row[column])) problem(`${rowAt}.${column}`, "must hold JSON text");
        }
        if (ids[table].has(row.id)) problem(`${rowAt}.id`, `${String(row.id)} appears twice`);
        ids[table].add(row.id);
        if (table === "attachments") {
          if (typeof row.id === "string" && !UUID.test(row.id)) problem(`${rowAt}.id`, "must be a UUID");
          if (typeof row.data === "string") {
            if (!BASE64.test(row.data)) problem(`${rowAt}.data`, "must be base64");
            else if (Buffer.byteLength(row.data, "base64") !== row.file_size) problem(`${rowAt}.data`, "does not hold file_size bytes");
          }
        }
      });
      tables[table] = rows as SandboxRow[];
    }
    for (const [table, column, target] of REFERENCES) {
      tables[table].forEach((row, r) => {
        const value = row[column];
        if (value !== null && value !== undefined && !ids[target].has(value)) {
          problem(`${at}.${table}[${r}].${column}`, `names ${String(value)}, which is not in ${target}`);
        }
      });
    }
    organizations.push({
      organization: { id: org.id as number, name: org.name as string, created_at: org.created_at as string },
      tables,
    });
  });
  if (problems.length > 0) throw fail();
  return {
    format: SANDBOX_FORMAT,
    version: SANDBOX_VERSION,
    exported_at: typeof input.exported_at === "string" ? input.exported_at : "",
    secrets_included: input.secrets_included as boolean,
    organizations,
  };
}

/** The file as JSON: each organization's tables inline beside `organization`. */
export function sandboxFileToJson(file: SandboxFile): Record<string, unknown> {
  return {
    format: file.format,
    version: file.version,
    exported_at: file.exported_at,
    secrets_included: file.secrets_included,
    organizations: file.organizations.map((org) => ({ organization: org.organization, ...org.tables })),
  };
}
