import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import semver from "semver";

/**
 * `engines` in package.json promises Node versions; every installed package must keep that
 * promise, or `npm install` warns EBADENGINE on a version we claim (cookie 2 once wanted
 * Node 22 on our Node 20). Checked at the lowest version of each range we accept and at the
 * versions CI runs (20 and 24).
 */

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; os?: string[] }>;
};

describe("supported Node versions", () => {
  const ours = new semver.Range(pkg.engines.node);
  const floors = ours.set.map((comparators) => semver.minVersion(new semver.Range(comparators.map((c) => c.value).join(" ")))!.version);
  const versions = [...new Set([...floors, "24.0.0"])];

  it("package.json accepts Node 20 and 24 (what CI runs)", () => {
    assert.ok(semver.satisfies("20.19.0", ours), `${pkg.engines.node} accepts Node 20.19.0`);
    assert.ok(semver.satisfies("24.0.0", ours), `${pkg.engines.node} accepts Node 24`);
    assert.ok(semver.satisfies(process.version, ours), `${pkg.engines.node} accepts this Node, ${process.version}`);
  });

  it("every installed package supports every Node version package.json accepts", () => {
    const broken: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      // Packages for other systems (fsevents) are never installed here.
      if (path === "" || wanted === undefined || (entry.optional && entry.os && !entry.os.includes(process.platform))) continue;
      for (const version of versions) {
        if (!semver.satisfies(version, wanted)) broken.push(`${path.replace(/^node_modules\//, "")} wants node ${wanted}, not ${version}`);
      }
    }
    assert.deepEqual(broken, [], "pin a version that supports them (package.json overrides) or raise engines");
  });
});
