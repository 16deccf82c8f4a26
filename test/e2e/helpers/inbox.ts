import type { ConfigOverrides } from "../../../src/config/config.ts";
import type { AppOverrides } from "../../../src/app.ts";
import { startTestApp, type TestApp } from "../../helpers/app.ts";

export interface InboxServer extends TestApp {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** The start banner's link: the inbox signed in with the test token. */
  signInUrl: string;
}

/** The real product listening on a free loopback port (a browser needs a socket, not inject()). */
export async function startInboxServer(
  options: { config?: ConfigOverrides; overrides?: AppOverrides } = {},
): Promise<InboxServer> {
  const app = await startTestApp("sqlite", options);
  await app.openlinq.listen();
  const baseUrl = app.openlinq.baseUrl();
  return Object.assign(app, { baseUrl, signInUrl: `${baseUrl}/#token=${encodeURIComponent(app.token)}` });
}
