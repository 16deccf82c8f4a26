#!/usr/bin/env node
// Runs the server built into dist/server when it was built from exactly the current sources
// (`npm install` builds it; `npm run build` rebuilds it), which starts in a fraction of the
// time; otherwise the TypeScript sources through tsx's loader, so an edit is never ignored
// and there is no build step to forget.
import { currentServerBuild } from "./server-build.js";

const built = currentServerBuild();
let main;
if (built) {
  ({ main } = await import(built));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
await main(process.argv.slice(2));
