#!/bin/sh
# Runs every test that needs a real cgroup v2 hierarchy (or the VM kernel's AppArmor), in one go,
# inside ../shared/vm/cgv2-run (one VM boot: it is 30-50x slower than the host). Invoked by
# test/cgv2/cgv2.test.ts. Arguments name other test files to run instead (one file while developing):
#   ../shared/vm/cgv2-run --timeout 900 -- test/cgv2/run.sh test/cgv2/rootless-v2.test.ts
set -e
cd "$(dirname "$0")/../.."
# The VM's /init chroots into the shared / (mounted at /newroot of its initramfs) instead of
# switch_root, so a container's mount namespace keeps the initramfs as its root: `exec` (setns)
# would land there, AppArmor would name container files /newroot/..., and an unprivileged user
# could not make a user namespace (EPERM in a chroot, user_namespaces(7)). Move the shared / onto
# the namespace root in a private mount namespace, as switch_root does, and start again there.
if [ -z "$KEEL_CGV2_REROOTED" ] && [ -d /proc/1/root/newroot ] && [ "$(stat -L -c %d:%i /proc/1/root)" != "$(stat -c %d:%i /)" ]; then
  export KEEL_CGV2_REROOTED=1
  exec chroot /proc/1/root /bin/unshare -m /bin/sh -c \
    'cd /newroot && mount -o move . / && exec chroot . /bin/sh -c "cd \"\$0\" && exec test/cgv2/run.sh \"\$@\"" "$0" "$@"' "$PWD" "$@"
fi
[ $# -gt 0 ] || set -- src/cgroups/v2.test.ts test/cgv2/keel-v2.test.ts test/cgv2/rootless-v2.test.ts test/cgv2/apparmor.test.ts
exec node --import tsx --test --test-concurrency=1 --test-reporter=tap "$@"
