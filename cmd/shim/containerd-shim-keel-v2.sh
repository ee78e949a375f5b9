#!/bin/sh
# containerd-shim-keel-v2 launcher. containerd runs `start` and `delete` once per container; a
# Node start-up costs ~100 ms here, a Go shim's ~10 ms. So two cases are answered from sh:
#   start:  the namespace's daemon is alive (socket + <socket>.pid with a live keel shim pid)
#           -> write <bundle>/address, print unix://<socket>;
#   delete: the daemon already deleted the task and left <bundle>/keel-delete-response
#           -> print it (a protobuf DeleteResponse).
# Everything else (first container, pod groups, a dead daemon, the daemon itself) runs the Node
# program next to this script. The socket name must match src/shim/start.ts socketPathOf().
here=$(dirname "$(readlink -f "$0")")
js="$here/containerd-shim-keel-v2.js"

ns=default address=/run/containerd/containerd.sock id= bundle= action=
prev=
for a in "$@"; do
  case "$prev" in
    -namespace|--namespace) ns=$a ;;
    -address|--address) address=$a ;;
    -id|--id) id=$a ;;
    -bundle|--bundle) bundle=$a ;;
  esac
  case "$prev" in -namespace|--namespace|-address|--address|-id|--id|-bundle|--bundle|-publish-binary|--publish-binary|-socket|--socket) prev=; continue ;; esac
  case "$a" in
    -namespace=*|--namespace=*) ns=${a#*=} ;;
    -address=*|--address=*) address=${a#*=} ;;
    -id=*|--id=*) id=${a#*=} ;;
    -bundle=*|--bundle=*) bundle=${a#*=} ;;
    start|delete) action=$a ;;
  esac
  prev=$a
done
[ -n "$bundle" ] || bundle=$PWD

if [ "$action" = delete ] && [ -f "$bundle/keel-delete-response" ]; then
  cat "$bundle/keel-delete-response"
  exit 0
fi

if [ "$action" = start ] && [ "${KEEL_SHIM_GROUP:-}" != container ] && [ -f "$bundle/config.json" ] &&
  ! grep -q -e '"io.containerd.runc.v2.group"' -e '"io.kubernetes.cri.sandbox-id"' "$bundle/config.json"; then
  sock="${KEEL_SHIM_SOCKET_DIR:-/run/containerd/s}/$(printf '%s' "keel:$address/$ns/namespace/$ns" | sha256sum | cut -c1-64)"
  if [ -S "$sock" ] && pid=$(cat "$sock.pid" 2>/dev/null) && [ -n "$pid" ] &&
    grep -q containerd-shim-keel "/proc/$pid/cmdline" 2>/dev/null; then
    printf 'unix://%s' "$sock" >"$bundle/address.$$" && mv -f "$bundle/address.$$" "$bundle/address" && {
      printf 'unix://%s' "$sock"
      exit 0
    }
  fi
fi

exec node "$js" "$@"
