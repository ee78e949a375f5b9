// dock login [SERVER] and dock logout [SERVER], with docker's flags and messages.
import type { Command } from 'commander';
import { errors } from '../../../src/errors/index';
import { login, loginHost, logout } from '../../../src/manager/images/registry/login';
import type { Cli } from './context';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function register(program: Command, cli: Cli): void {
  program
    .command('login')
    .description('Log in to a registry')
    .argument('[server]')
    .option('-u, --username <username>', 'username')
    .option('-p, --password <password>', 'password')
    .option('--password-stdin', 'take the password from stdin', false)
    .action(
      cli.action(async (dock, server: string | undefined, o: { username?: string; password?: string; passwordStdin: boolean }) => {
        if (o.password !== undefined && o.passwordStdin) throw errors.invalid('--password and --password-stdin are mutually exclusive');
        if (o.passwordStdin && !o.username) throw errors.invalid('Must provide --username with --password-stdin');
        if (o.password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
        const password = o.passwordStdin ? await readStdin() : o.password;
        if (!o.username || password === undefined || password === '') throw errors.invalid('Error: Cannot perform an interactive login from a non TTY device');
        const host = loginHost(server);
        const store = dock.credentials;
        await login(store, host, o.username, password, { insecureRegistries: cli.opts.insecureRegistry ?? [] });
        process.stdout.write('Login Succeeded\n');
      }),
    );
  program
    .command('logout')
    .description('Log out from a registry')
    .argument('[server]')
    .action(
      cli.action(async (dock, server: string | undefined) => {
        const host = loginHost(server);
        if (await logout(dock.credentials, host)) process.stdout.write(`Removing login credentials for ${host === 'docker.io' ? 'https://index.docker.io/v1/' : host}\n`);
        else process.stdout.write(`Not logged in to ${host === 'docker.io' ? 'https://index.docker.io/v1/' : host}\n`);
      }),
    );
}
