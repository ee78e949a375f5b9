#!/bin/sh
# Runs every test that needs a real cgroup v2 hierarchy, in one go, inside ../shared/vm/cgv2-run
# (one VM boot: it is 30-50x slower than the host). Invoked by test/cgv2/cgv2.test.ts.
set -e
cd "$(dirname "$0")/../.."
exec node --import tsx --test --test-concurrency=1 --test-reporter=tap src/cgroups/v2.test.ts test/cgv2/keel-v2.test.ts
