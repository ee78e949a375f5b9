#!/bin/sh
# containerd-shim-keel-v2 launcher. containerd runs `start` and `delete` once per container; a
# Node start-up costs ~100 ms here, a Go shim's ~10 ms. So two cases are answered from sh:
#   start:  the group's daemon (a CRI pod's, else the namespace's) is alive (socket +
#           <socket>.pid naming a live keel-shim) -> write <bundle>/address, print unix://<socket>;
#   delete: the daemon already deleted the task and left <bundle>/keel-delete-response
#           -> print the protobuf DeleteResponse it spells.
#   start, no daemon: a new pod adopts a spare daemon (started ahead by another pod's daemon), or
#           the daemon is launched here (it binds the socket itself); wait for its pid file.
# Everything else (KEEL_SHIM_GROUP=container, the Node delete) runs the Node program next to
# this script. The socket name must match src/shim/start.ts socketPathOf().
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

# The response is kept as a printf format (every byte an octal escape: src/shim/task-service.ts),
# so that printing it needs no process (cat's start cost ~8 ms of CPU per container here).
if [ "$action" = delete ] && [ -f "$bundle/keel-delete-response" ]; then
  fmt=
  IFS= read -r fmt <"$bundle/keel-delete-response"
  # shellcheck disable=SC2059 # the file is a format by design: octal escapes only
  printf "$fmt"
  exit 0
fi

# Builtins only, but for one grep and one sha256sum: every fork here is paid per container
# (containerd runs `start` for every task, a CRI pod's containers included).
# annotation KEY TEXT: sets val to the string value of "KEY" in TEXT (JSON, compact or indented,
# or grep's matches of it); no command substitution, which would fork.
annotation() {
  val=${2#*"\"$1\""}
  val=${val#"${val%%[! ]*}"}
  val=${val#:}
  val=${val#"${val%%[! ]*}"}
  val=${val#\"}
  val=${val%%\"*}
}
# shim_comm PID: sets comm to the process's name, or to nothing when it is gone or a zombie (a
# daemon killed with SIGKILL stays a zombie until its parent, init, reaps it: not a live daemon).
shim_comm() {
  comm= stat=
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
  case ${stat##*) } in Z* | X*) return 0 ;; esac
  comm=${stat#*(}
  comm=${comm%)*}
}
# live_daemon PIDFILE: sets pid to the pid PIDFILE holds; succeeds if that process is a live
# daemon (it names itself keel-shim, process.title, so a reused pid is not mistaken for it).
live_daemon() {
  pid= comm=
  { read -r pid <"$1"; } 2>/dev/null
  [ -n "$pid" ] && shim_comm "$pid"
  case $comm in keel-shim*) return 0 ;; esac
  return 1
}
# answer SOCK: start's answer, the bundle's address file and stdout naming SOCK; exits.
answer() {
  printf 'unix://%s' "$1" >"$bundle/address" && printf 'unix://%s' "$1" && exit 0
}
fast= group=
if [ "$action" = start ] && [ "${KEEL_SHIM_GROUP:-}" != container ] && [ -f "$bundle/config.json" ]; then
  fast=1 runc_group= sandbox=
  # One grep for both annotations, not the read builtin: dash reads a file a byte per read(2),
  # and scanning a CRI container's config.json so took ~20 ms of CPU in every start. The
  # pattern needs an unescaped quote after the key, which a JSON string value cannot hold.
  found=$(grep -o -E '"io\.(containerd\.runc\.v2\.group|kubernetes\.cri\.sandbox-id)" *: *"[^"]*"' "$bundle/config.json" 2>/dev/null)
  case $found in *'"io.containerd.runc.v2.group"'*) annotation io.containerd.runc.v2.group "$found" && runc_group=$val ;; esac
  case $found in *'"io.kubernetes.cri.sandbox-id"'*) annotation io.kubernetes.cri.sandbox-id "$found" && sandbox=$val ;; esac
  # The same group as src/shim/start.ts groupOf(): the runc shim's annotations, else the namespace.
  group=namespace/$ns
  [ -n "$sandbox" ] && group=group/$sandbox
  [ -n "$runc_group" ] && group=group/$runc_group
fi
if [ -n "$fast" ]; then
  sockdir=${KEEL_SHIM_SOCKET_DIR:-/run/containerd/s}
  # A container of a pod whose sandbox has started: the sandbox's bundle, beside ours, holds the
  # address its start printed, the group's socket (a process start costs ~5 ms of CPU here, and
  # the hash below takes two). Used only to find a live daemon, and only if it names a socket in
  # our directory; everything after that works from the hash.
  if [ -n "$sandbox" ] && [ -z "$runc_group" ]; then
    case $sandbox in
      *[!0-9A-Za-z_.-]* | .*) ;;
      *)
        a=
        { IFS= read -r a <"${bundle%/*}/$sandbox/address"; } 2>/dev/null
        a=${a#unix://}
        case $a in
          */.* | *//*) ;;
          "$sockdir"/?*) [ -S "$a" ] && live_daemon "$a.pid" && answer "$a" ;;
        esac
        ;;
    esac
  fi
  h=$(printf '%s' "keel:$address/$ns/$group" | sha256sum)
  sock="$sockdir/${h%% *}"
  pid=
  [ -S "$sock" ] && live_daemon "$sock.pid" && answer "$sock"
  # A pid file naming no live daemon is stale (its daemon died): take it away, but never a fresh
  # one that a daemon started by a concurrent launcher wrote after our read above (removing that
  # left every later launcher of the group waiting for a pid file nobody would write again). So
  # the file is renamed (one launcher gets it), read again, and put back if it names a live daemon.
  if [ -n "$pid" ] && mv "$sock.pid" "$sock.pid.$$" 2>/dev/null; then
    if live_daemon "$sock.pid.$$"; then
      ln "$sock.pid.$$" "$sock.pid" 2>/dev/null
      rm -f "$sock.pid.$$"
      answer "$sock"
    fi
    rm -f "$sock.pid.$$"
  fi
  # No daemon: start one that binds the socket itself (saving a Node start for `start`), in its
  # own session, with nothing of ours on stdout (containerd reads it to EOF) and stderr on the
  # bundle's log fifo (opened read-write so that the open cannot block). Wait for its pid file.
  # A new pod: a spare daemon of this containerd and namespace, already started and loaded, takes
  # it (src/shim/shim.ts waitAdoption). Claim one by renaming its file (atomic: one launcher wins),
  # leave the request, wake it; the wait below is the same as for a daemon started here.
  daemon=
  if [ "${group%%/*}" = group ] && [ "${KEEL_SHIM_SPARE:-}" != 0 ]; then
    nh=$(printf '%s' "keel:$address/$ns" | sha256sum)
    for f in "${sock%/*}/keel-spare-${nh%% *}".*; do
      spid=${f##*.}
      case $spid in '' | *[!0-9]*) continue ;; esac
      mv "$f" "$f.claimed" 2>/dev/null || continue
      printf '%s\n%s\n' "$sock" "$bundle" >"$f.req"
      if kill -USR2 "$spid" 2>/dev/null; then
        daemon=$spid
        break
      fi
      rm -f "$f.claimed" "$f.req"
    done
  fi
  # The daemon is this program without the action.
  for a do
    shift
    [ "$a" = start ] || set -- "$@" "$a"
  done
  if [ -z "$daemon" ]; then
    log=/dev/null
    [ -p "$bundle/log" ] && log=$bundle/log
    # --lite-mode (no optimizing tiers, feedback allocated lazily) cuts the long-lived daemon's
    # private memory by about a quarter (22 -> 16 MB with 10 containers); --no-expose-wasm keeps
    # V8 from warning that lite mode turned wasm off (long.js falls back to plain JS without it).
    setsid node --max-semi-space-size=1 --lite-mode --no-expose-wasm "$(dirname "$(readlink -f "$0")")/containerd-shim-keel-v2.js" "$@" -socket "$sock" \
      </dev/null >/dev/null 2<>"$log" &
    daemon=$!
  fi
  n=0 lost=0
  while [ $n -lt 3000 ]; do
    live_daemon "$sock.pid" && answer "$sock"
    # Our daemon gave up (another one won the socket, or it failed): the winner's pid file is
    # due; if it does not come within ~1 s, or there is no socket at all, the Node start decides.
    if ! kill -0 "$daemon" 2>/dev/null; then
      [ -S "$sock" ] || break
      lost=$((lost + 1))
      [ $lost -lt 200 ] || break
    fi
    sleep 0.005
    n=$((n + 1))
  done
  set -- "$@" start
fi

exec node "$(dirname "$(readlink -f "$0")")/containerd-shim-keel-v2.js" "$@"
