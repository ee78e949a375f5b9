#!/bin/sh
# containerd-shim-keel-v2 launcher. containerd runs `start` and `delete` once per container; a
# Node start-up costs ~100 ms here, a Go shim's ~10 ms. So two cases are answered from sh:
#   start:  the namespace's daemon is alive (socket + <socket>.pid naming a live keel-shim)
#           -> write <bundle>/address, print unix://<socket>;
#   delete: the daemon already deleted the task and left <bundle>/keel-delete-response
#           -> print it (a protobuf DeleteResponse).
#   start, no daemon: launch the daemon (it binds the socket itself) and wait for its pid file.
# Everything else (pod groups, KEEL_SHIM_GROUP=container, the Node delete) runs the Node program
# next to this script. The socket name must match src/shim/start.ts socketPathOf().
ns=default address=/run/containerd/containerd.sock bundle= action=
prev=
for a in "$@"; do
  case "$prev" in
    -namespace|--namespace) ns=$a ;;
    -address|--address) address=$a ;;
    -bundle|--bundle) bundle=$a ;;
  esac
  case "$prev" in -namespace|--namespace|-address|--address|-id|--id|-bundle|--bundle|-publish-binary|--publish-binary|-socket|--socket) prev=; continue ;; esac
  case "$a" in
    -namespace=*|--namespace=*) ns=${a#*=} ;;
    -address=*|--address=*) address=${a#*=} ;;
    -bundle=*|--bundle=*) bundle=${a#*=} ;;
    start|delete) action=$a ;;
  esac
  prev=$a
done
[ -n "$bundle" ] || bundle=$PWD

if [ "$action" = delete ] && [ -f "$bundle/keel-delete-response" ]; then
  exec cat "$bundle/keel-delete-response"
fi

# Builtins only, but for one sha256sum: every fork here is paid per container.
fast=
if [ "$action" = start ] && [ "${KEEL_SHIM_GROUP:-}" != container ] && [ -f "$bundle/config.json" ]; then
  fast=1
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in *'"io.containerd.runc.v2.group"'* | *'"io.kubernetes.cri.sandbox-id"'*) fast= ;; esac
    line=
  done <"$bundle/config.json"
fi
if [ -n "$fast" ]; then
  h=$(printf '%s' "keel:$address/$ns/namespace/$ns" | sha256sum)
  sock="${KEEL_SHIM_SOCKET_DIR:-/run/containerd/s}/${h%% *}"
  pid= comm=
  [ -S "$sock" ] && { read -r pid <"$sock.pid"; } 2>/dev/null
  [ -n "$pid" ] && { read -r comm <"/proc/$pid/comm"; } 2>/dev/null
  # The daemon names itself keel-shim (process.title), so a reused pid is not mistaken for it.
  case $comm in
    keel-shim*)
      printf 'unix://%s' "$sock" >"$bundle/address" && printf 'unix://%s' "$sock" && exit 0
      ;;
  esac
  # No daemon: start one that binds the socket itself (saving a Node start for `start`), in its
  # own session, with nothing of ours on stdout (containerd reads it to EOF) and stderr on the
  # bundle's log fifo (opened read-write so that the open cannot block). Wait for its pid file.
  rm -f "$sock.pid"
  # The daemon is this program without the action.
  for a do
    shift
    [ "$a" = start ] || set -- "$@" "$a"
  done
  log=/dev/null
  [ -p "$bundle/log" ] && log=$bundle/log
  setsid node --max-semi-space-size=1 "$(dirname "$(readlink -f "$0")")/containerd-shim-keel-v2.js" "$@" -socket "$sock" \
    </dev/null >/dev/null 2<>"$log" &
  daemon=$!
  n=0
  while [ $n -lt 3000 ]; do
    pid= comm=
    { read -r pid <"$sock.pid"; } 2>/dev/null
    [ -n "$pid" ] && { read -r comm <"/proc/$pid/comm"; } 2>/dev/null
    case $comm in
      keel-shim*)
        printf 'unix://%s' "$sock" >"$bundle/address" && printf 'unix://%s' "$sock" && exit 0
        ;;
    esac
    # Our daemon gave up (another one won the socket, or it failed): the Node start decides.
    kill -0 "$daemon" 2>/dev/null || [ -S "$sock" ] || break
    sleep 0.005
    n=$((n + 1))
  done
  set -- "$@" start
fi

exec node "$(dirname "$(readlink -f "$0")")/containerd-shim-keel-v2.js" "$@"
