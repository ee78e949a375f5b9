// `login` and `logout` (docker/cli registry/login.go, logout.go): POST /auth through the engine,
// credentials stored in the CLI's config.json (or its credential helper); plus the per-registry
// auth lookup that pull, push and run send as X-Registry-Auth.
import type { DockCli } from '../cli';
import { maxArgs, type CommandSpec } from '../command';
import { INDEX_SERVER, type AuthConfig } from '../config-file';
import { readStdin } from './common';

/** The config.json key for a registry domain (docker.io → the v1 index URL). */
export function authKey(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' || domain === 'registry-1.docker.io' ? INDEX_SERVER : domain;
}

export function authFor(cli: DockCli, domain: string): AuthConfig {
  return cli.configFile().getAuth(authKey(domain));
}

/** credentials.ConvertToHostname: strip a scheme and anything after the host. */
export function convertToHostname(s: string): string {
  let stripped = s;
  if (s.startsWith('http://')) stripped = s.slice(7);
  else if (s.startsWith('https://')) stripped = s.slice(8);
  return stripped.split('/')[0]!;
}

async function promptLine(cli: DockCli, prompt: string, hidden: boolean): Promise<string> {
  cli.out.write(prompt);
  const input = cli.in.stream as NodeJS.ReadStream & { setRawMode?: (b: boolean) => void };
  if (hidden && input.setRawMode) input.setRawMode(true);
  try {
    return await new Promise<string>((resolve) => {
      let buf = '';
      const onData = (d: Buffer) => {
        for (const ch of d.toString()) {
          if (ch === '\r' || ch === '\n') {
            input.off('data', onData);
            input.pause();
            if (hidden) cli.out.write('\n');
            resolve(buf);
            return;
          }
          if (ch === '\u0003') process.exit(130);
          if (ch === '\u007f') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      input.on('data', onData);
      input.resume();
    });
  } finally {
    if (hidden && input.setRawMode) input.setRawMode(false);
  }
}

export function loginCommand(): CommandSpec<DockCli> {
  return {
    use: 'login [OPTIONS] [SERVER]',
    short: 'Authenticate to a registry',
    long: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
    categoryTop: 8,
    args: maxArgs(1),
    flags: (f) => {
      f.string('username', 'u', '', 'Username');
      f.string('password', 'p', '', 'Password or Personal Access Token (PAT)');
      f.bool('password-stdin', '', false, 'Take the Password or Personal Access Token (PAT) from stdin');
    },
    run: async ({ cli, flags, args }) => {
      let user = flags.get<string>('username');
      let password = flags.get<string>('password');
      const fromStdin = flags.get<boolean>('password-stdin');
      if (flags.changed('password-stdin')) {
        if (flags.changed('password')) throw new Error('conflicting options: cannot specify both --password and --password-stdin');
        if (!flags.changed('username')) throw new Error('the --password-stdin option requires --username to be set');
      }
      if (flags.changed('username') && user === '') throw new Error('username is empty');
      if (flags.changed('password') && password === '') throw new Error('password is empty');
      if (password !== '') cli.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (fromStdin) {
        if (user === '') throw new Error('username is empty');
        password = (await readStdin(cli)).toString().replace(/\n$/, '').replace(/\r$/, '');
      }
      const server = args[0] && args[0] !== 'docker.io' ? args[0] : INDEX_SERVER;
      const isDefault = server === INDEX_SERVER;
      const key = isDefault ? server : convertToHostname(server);
      const cfg = cli.configFile();
      const client = await cli.client();
      const stored = user === '' && password === '' ? cfg.getAuth(key) : {};
      const attempt = async (a: AuthConfig): Promise<{ Status: string; IdentityToken?: string }> => {
        const body: Record<string, string> = {};
        for (const k of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) if (a[k]) body[k] = a[k]!;
        return client.json('POST', '/auth', { body });
      };
      if (stored.username && stored.password) {
        cli.err.write(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
        cli.err.write(`\ni Info → To login with a different account, run '${'dock'} logout' followed by '${'dock'} login'\n\n\n`);
        try {
          const r = await attempt({ ...stored, serveraddress: key });
          cfg.storeAuth(key, r.IdentityToken ? { username: stored.username, identitytoken: r.IdentityToken } : { username: stored.username, password: stored.password });
          cli.out.write(`${r.Status}\n`);
          return;
        } catch (e) {
          cli.err.write(`Stored credentials invalid or expired\n`);
          void e;
        }
      }
      if ((user === '' || password === '') && !cli.in.isTerminal) throw new Error('Error: Cannot perform an interactive login from a non TTY device');
      if (user.trim() === '') {
        const def = (stored.username ?? '').trim();
        user = (await promptLine(cli, def ? `Username (${def}): ` : 'Username: ', false)).trim() || def;
        if (user === '') throw new Error('Error: Non-null Username Required');
      }
      if (password.trim() === '') {
        password = await promptLine(cli, 'Password: ', true);
        if (password === '') throw new Error('Error: Password Required');
      }
      const r = await attempt({ username: user, password, serveraddress: key });
      let changed: boolean;
      try {
        changed = cfg.storeAuth(key, r.IdentityToken ? { username: user, identitytoken: r.IdentityToken } : { username: user, password });
      } catch (e) {
        throw new Error(`Error saving credentials: ${(e as Error).message}`);
      }
      if (changed && !r.IdentityToken && cfg.isFileStore(key)) {
        cli.err.write(`\nWARNING! Your credentials are stored unencrypted in '${cfg.filename}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
      }
      if (r.Status) cli.out.write(`${r.Status}\n`);
    },
  };
}

export function logoutCommand(): CommandSpec<DockCli> {
  return {
    use: 'logout [SERVER]',
    short: 'Log out from a registry',
    long: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
    categoryTop: 9,
    args: maxArgs(1),
    run: async ({ cli, args }) => {
      let server = args[0] ?? '';
      const isDefault = server === '';
      if (isDefault) server = INDEX_SERVER;
      const host = isDefault ? server : convertToHostname(server);
      const regs = isDefault ? [server] : [server, host, `http://${host}`, `https://${host}`];
      cli.out.write(`Removing login credentials for ${host}\n`);
      const cfg = cli.configFile();
      for (const r of regs) if (cfg.hasAuth(r)) cfg.eraseAuth(r);
    },
  };
}
