// keel spec: write a default config.json into the bundle directory, refusing to overwrite one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { RuntimeError } from '../../src/errors/index';
import { defaultSpec, rootlessSpec } from '../../src/oci/default-spec';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('spec')
    .summary('create a new specification file')
    .description(
      'The spec command creates the new specification file named "config.json" for the bundle.\n\n' +
        'The spec generated is just a starter file. Editing of the spec is required to achieve desired results.\n' +
        'For example, the newly generated spec includes an args parameter that is initially set to call the "sh"\n' +
        'command when the container is started. Calling "sh" may work for an ubuntu container or busybox, but\n' +
        'will not work for containers that do not include the "sh" program.\n\n' +
        'EXAMPLE:\n  To run docker\'s hello-world container one needs to set the args parameter in the spec to call hello:\n\n' +
        '    mkdir hello && cd hello\n    docker export $(docker create hello-world) > hello-world.tar\n' +
        '    mkdir rootfs && tar -C rootfs -xf hello-world.tar\n    keel spec\n' +
        '    sed -i \'s;"sh";"/hello";\' config.json\n    keel run container1',
    )
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory')
    .option('--rootless', 'generate a configuration for a rootless container', false)
    .action(async (o: { bundle?: string; rootless: boolean }, cmd: Command) => {
      try {
        exactArgs('spec', cmd.args, 0);
        const spec = o.rootless ? rootlessSpec(process.geteuid?.() ?? 0, process.getegid?.() ?? 0) : defaultSpec();
        const dir = o.bundle ?? '.';
        try {
          if (!fs.statSync(dir).isDirectory()) throw new RuntimeError('InvalidArgument', `chdir ${dir}: not a directory`);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError('NotFound', `chdir ${dir}: no such file or directory`);
          throw e;
        }
        const file = path.join(dir, 'config.json');
        if (fs.existsSync(file)) throw new RuntimeError('AlreadyExists', 'File config.json exists. Remove it first');
        fs.writeFileSync(file, JSON.stringify(spec, null, '\t'), { mode: 0o666 });
      } catch (e) {
        await cli.fail(e);
      }
    });
}
