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

# dock: a daemon of its own (private data root, exec root, socket and cgroup parent) in a network
# namespace made for the demo, so its bridge, veths and iptables rules never touch the host's.
# (nsenter --net, not `ip netns exec`, which remounts /sys and hides the cgroup hierarchies.)
# The image is the same busybox root filesystem, imported; then run, a published port, exec, logs.
dock="$repo/bin/dock"
ns="keel-demo-$$"
dpid=
dock_cleanup() {
  if [ -n "$dpid" ]; then
    DOCKER_HOST="unix://$work/dock.sock" "$dock" rm -f web >/dev/null 2>&1 || true
    kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
  # The daemon removes its containers' cgroups; the parent made for the demo goes here.
  for c in /sys/fs/cgroup/*/"keel-demo-$$" /sys/fs/cgroup/"keel-demo-$$"; do
    [ -d "$c" ] && rmdir "$c" 2>/dev/null || true
  done
  cleanup
}
trap dock_cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
nsenter --net="/run/netns/$ns" "$dock" daemon --data-root "$work/dock/data" --exec-root "$work/dock/exec" \
  -H "unix://$work/dock.sock" --cgroup-parent "/keel-demo-$$" >"$work/dock.log" 2>&1 &
dpid=$!
export DOCKER_HOST="unix://$work/dock.sock"
for _ in $(seq 100); do "$dock" version >/dev/null 2>&1 && break; sleep 0.1; done
show() { echo "+ dock $*"; "$dock" "$@"; }
tar -C "$work/bundle/rootfs" -c . | show import -c 'CMD ["sh"]' - busybox:latest >/dev/null
show images
show run --rm busybox sh -c 'echo "hello from $(hostname), pid $$"'
show run -d --name web -p 8080:80 busybox sh -c 'mkdir /www && echo "served by dock" >/www/index.html && echo started && exec httpd -f -v -p 80 -h /www' >/dev/null
show ps --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Ports}}'
for _ in $(seq 50); do nsenter --net="/run/netns/$ns" curl -fs http://127.0.0.1:8080/ >/dev/null 2>&1 && break; sleep 0.1; done
echo "+ curl http://127.0.0.1:8080/   (in the demo's network namespace)"
nsenter --net="/run/netns/$ns" curl -fsS http://127.0.0.1:8080/
show exec web ps
show logs web
show rm -f web
