#!/usr/bin/env bash
# `make demo`: builds a busybox bundle with `keel spec` and runs it with keel, showing the
# container's hostname, its pid 1 and its mounts. Everything lives under a temp dir removed at exit.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
keel="$repo/bin/keel"
work=$(mktemp -d /tmp/keel-demo.XXXXXX)
root="$work/state"
id="demo-$$"
cleanup() { "$keel" --root "$root" delete --force "$id" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/bundle/rootfs"
(cd "$repo" && node --import tsx -e "require('./conformance/lib/rootfs.ts').makeBusyboxRootfs('$work/bundle/rootfs')")
"$keel" spec --bundle "$work/bundle"
# Not a terminal (the demo's output is piped), and a command that shows the container from inside.
node -e '
const fs = require("fs"); const f = process.argv[1]; const c = JSON.parse(fs.readFileSync(f));
c.process.terminal = false;
c.process.args = ["sh", "-c", "echo \"hostname: $(hostname)\"; echo \"pid: $$\"; echo mounts:; cat /proc/self/mounts"];
fs.writeFileSync(f, JSON.stringify(c, null, "\t"));' "$work/bundle/config.json"
echo "+ keel run --bundle $work/bundle $id"
"$keel" --root "$root" run --bundle "$work/bundle" "$id"
