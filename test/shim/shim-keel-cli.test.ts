// The shim contract suite with CliRuntime driving bin/keel (our runtime CLI, as containerd's runc
// shim would run it with BinaryName).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runShimSuite } from './suite';
import { repoRoot } from './containerd-fixture';

const keel = path.join(repoRoot, 'bin', 'keel');
runShimSuite({ name: 'cli-keel', env: { KEEL_SHIM_BINARY: keel }, skip: () => (fs.existsSync(keel) ? undefined : 'bin/keel not built (make)') });
