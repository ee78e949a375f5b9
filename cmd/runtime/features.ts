// keel features: print the features document (runtime-spec features.md) as indented JSON.
import type { Command } from 'commander';
import { featuresDocument } from '../../src/oci/features';
import { NAMESPACES } from '../../src/runtime/plan/constants';
import { supportedMountOptions } from '../../src/runtime/plan/mount-options';
import { hostLsm } from '../../src/runtime/lsm';
import { libseccompVersion, seccompFeatures } from '../../src/runtime/seccomp';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('features')
    .summary('show the enabled features')
    .description('Show the enabled features.\n   The result is parsable as a JSON.\n   See the runtime-spec features.md for the format.')
    .action(async (_o: unknown, cmd: Command) => {
      try {
        exactArgs('features', cmd.args, 0);
        const doc = featuresDocument({
          mountOptions: supportedMountOptions,
          namespaces: Object.keys(NAMESPACES),
          cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
          seccomp: seccompFeatures(),
          apparmor: hostLsm().apparmor,
          annotations: { 'io.github.seccomp.libseccomp.version': libseccompVersion() },
        });
        process.stdout.write(JSON.stringify(doc, null, '    ') + '\n');
      } catch (e) {
        await cli.fail(e);
      }
    });
}
