import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { buildApp, type AppOverrides, type OpenLinq } from "../../src/app.ts";
import { loadConfig, type ConfigOverrides } from "../../src/config/config.ts";
import { addPhoneNumber, createOrganization, createToken } from "../../src/core/accounts/accounts.service.ts";
import { dropPostgresSchema } from "../../src/storage/database.ts";

export type Dialect = "sqlite" | "postgres";

/**
 * SQLite always; Postgres too when TEST_DATABASE_URL is set (as `npm run test:pg` does).
 * TEST_DIALECTS=postgres keeps only the Postgres pass: CI's second run, after `npm test`
 * already ran the SQLite one.
 */
export const DIALECTS: Dialect[] = process.env.TEST_DATABASE_URL
  ? process.env.TEST_DIALECTS === "postgres"
    ? ["postgres"]
    : ["sqlite", "postgres"]
  : ["sqlite"];

export const TEST_TOKEN = "test-token-org-one";
export const OUR_NUMBER = "+19998887777";

/** A multipart part: a text value, or a file. Repeat a name for `key[]` arrays. */
export type MultipartPart = [name: string, value: string | { filename: string; data: Uint8Array; type?: string }];

export interface TestResponse {
  status: number;
  body: any;
  headers: Record<string, unknown>;
  raw: string;
}

/** Encodes parts as multipart/form-data the way a browser or curl -F would (undici's encoder). */
export async function encodeMultipart(parts: readonly MultipartPart[]): Promise<{ payload: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === "string") form.append(name, value);
    else {
      const blob = new Blob([Uint8Array.from(value.data)], { type: value.type ?? "application/octet-stream" });
      form.append(name, blob, value.filename);
    }
  }
  const encoded = new Request("http://multipart.invalid/", { method: "POST", body: form });
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get("content-type")!,
  };
}

export interface TestApp {
  openlinq: OpenLinq;
  token: string;
  dataDir: string;
  /** The Postgres schema of its database (unused on SQLite). */
  schema: string;
  /** inject() with the token header (unless `token: null`) and a JSON body. */
  request(
    method: string,
    url: string,
    options?: { body?: unknown; token?: string | null; headers?: Record<string, string>; payload?: string | Buffer },
  ): Promise<TestResponse>;
  /** inject() with the token header and a multipart/form-data body. */
  multipart(
    method: string,
    url: string,
    parts: readonly MultipartPart[],
    options?: { token?: string | null },
  ): Promise<TestResponse>;
  /** A second organization with its own token and number, for isolation tests. */
  secondOrg(): Promise<{ token: string; number: string; orgId: number }>;
  close(): Promise<void>;
}

/**
 * Builds the real product on a fresh database: a temp SQLite file, or a new Postgres
 * schema dropped on close. Only time, ids and the outside world may be overridden.
 */
export async function startTestApp(
  dialect: Dialect,
  options: {
    config?: ConfigOverrides;
    overrides?: AppOverrides;
    /** Another node on the same database (and data directory) as this app, which keeps ownership of both. */
    nodeOf?: TestApp;
  } = {},
): Promise<TestApp> {
  const owner = options.nodeOf === undefined;
  const dataDir = options.nodeOf?.dataDir ?? mkdtempSync(join(tmpdir(), "openlinq-test-"));
  const schema = options.nodeOf?.schema ?? `test_${randomBytes(6).toString("hex")}`;
  const config = loadConfig(
    {},
    {
      DATA_DIR: dataDir,
      TOKEN: TEST_TOKEN,
      PHONE_NUMBERS: OUR_NUMBER,
      RATE_LIMIT: "0",
      // Tests send many wrong tokens from one address on purpose; auth-limits.test.ts turns it on.
      AUTH_FAILURE_LIMIT: "0",
      LOG_LEVEL: "silent",
      PORT: "0",
      ...(dialect === "postgres" ? { DATABASE_URL: process.env.TEST_DATABASE_URL!, DATABASE_SCHEMA: schema } : {}),
      ...options.config,
    },
  );
  const openlinq = await buildApp(config, options.overrides);
  let secondOrgCount = 0;

  const app: TestApp = {
    openlinq,
    token: TEST_TOKEN,
    dataDir,
    schema,
    async request(method, url, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const token = opts.token === undefined ? TEST_TOKEN : opts.token;
      if (token !== null) headers["x-linq-integration-token"] = token;
      let payload: string | Buffer | undefined = opts.payload;
      if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers["content-type"] ??= "application/json";
      }
      const response = await openlinq.http.inject({
        method: method as "GET",
        url,
        headers,
        ...(payload !== undefined ? { payload } : {}),
      });
      let body: unknown = undefined;
      if (response.body !== "") {
        try {
          body = JSON.parse(response.body);
        } catch {
          body = response.body;
        }
      }
      return { status: response.statusCode, body, headers: response.headers, raw: response.body };
    },
    async multipart(method, url, parts, opts = {}) {
      const { payload, contentType } = await encodeMultipart(parts);
      return app.request(method, url, { ...opts, payload, headers: { "content-type": contentType } });
    },
    async secondOrg() {
      secondOrgCount += 1;
      const deps = openlinq.deps;
      const org = await createOrganization(deps, `Second org ${secondOrgCount}`, {
        email: `owner${secondOrgCount}@second.example`,
        firstName: "Second",
        lastName: "Owner",
      });
      const number = `+1888555${String(1000 + secondOrgCount).padStart(4, "0")}`;
      await addPhoneNumber(deps, number, org.id);
      const { token } = await createToken(deps, { orgId: org.id });
      return { token, number, orgId: org.id };
    },
    async close() {
      await openlinq.close();
      if (!owner) return;
      rmSync(dataDir, { recursive: true, force: true });
      if (dialect === "postgres") {
        await dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
      }
    },
  };
  return app;
}
