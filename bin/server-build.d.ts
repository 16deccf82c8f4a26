/** Types of bin/server-build.js (plain JavaScript: it runs before any TypeScript loader). */
export declare const SERVER_DIST_DIR: string;
export declare function serverSourceHash(): string;
export declare function currentServerBuild(): string | undefined;
export declare function buildServer(): Promise<void>;
