// Build identity: esbuild defines KEEL_VERSION and KEEL_COMMIT in the bundles; from source (tests)
// they fall back to package.json and "dev".
declare const KEEL_VERSION: string | undefined;
declare const KEEL_COMMIT: string | undefined;

export const keelVersion: string = typeof KEEL_VERSION === 'string' ? KEEL_VERSION : (require('../package.json') as { version: string }).version;
export const keelCommit: string = typeof KEEL_COMMIT === 'string' ? KEEL_COMMIT : 'dev';
/** The runtime-spec version keel implements. */
export const specVersion = '1.3.0';
