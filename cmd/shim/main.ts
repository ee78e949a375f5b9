// containerd-shim-keel-v2 entry point. The shim itself lands with the shim issue; until then it
// answers --help and --version and refuses actions with a clear error.
import { keelVersion } from '../../src/version';

const usage = `Usage: containerd-shim-keel-v2 [-namespace NS] [-address ADDR] [-publish-binary BIN] [-id ID] [-bundle DIR] [-debug] start|delete

containerd shim v2 for the keel OCI runtime (runtime type io.containerd.keel.v2).
Not implemented yet: start and delete fail with "not implemented".
`;

function main(argv: string[]): number {
  if (argv.includes('-v') || argv.includes('--version')) {
    process.stdout.write(`containerd-shim-keel-v2 version ${keelVersion}\n`);
    return 0;
  }
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help') || argv.includes('-help')) {
    process.stdout.write(usage);
    return 0;
  }
  process.stderr.write('containerd-shim-keel-v2: not implemented\n');
  return 1;
}

process.exitCode = main(process.argv.slice(2));
