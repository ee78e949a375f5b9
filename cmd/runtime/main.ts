// keel: runc-compatible OCI runtime CLI (placeholder until the verbs land).
declare const KEEL_VERSION: string;
process.stdout.write(`keel version ${KEEL_VERSION}\n`);
