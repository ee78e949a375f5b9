// dock entry point. The manager lands with the dock issues; until then it prints usage.
import { keelVersion } from '../../src/version';

const usage = `Usage: dock [OPTIONS] COMMAND

A Docker-like container manager built on the keel runtime.
Not implemented yet.
`;

function main(argv: string[]): number {
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`dock version ${keelVersion}\n`);
    return 0;
  }
  process.stdout.write(usage);
  return argv.length === 0 || argv.includes('--help') || argv.includes('-h') ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
