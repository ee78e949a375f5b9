// Runs inside a test namespace (hooks.test.ts starts it with nsenter): drives BridgeNetworking the
// way the engine does for two containers (a linked pair on the default bridge, one also on a user
// network with an alias and a published port) and prints what the engine would see, as JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBridgeNetworking } from '../../../../src/manager/network/hooks';
import type { ContainerRecord } from '../../../../src/manager/containers/types';

function record(id: string, name: string, extra: { hc?: object; config?: object }): ContainerRecord {
  return {
    ID: id,
    Name: `/${name}`,
    Config: { Env: ['PATH=/bin', 'FOO=bar'], ExposedPorts: { '80/tcp': {} }, ...extra.config },
    HostConfig: { NetworkMode: 'default', ...extra.hc },
    NetworkSettings: { Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Networks: {} },
  } as unknown as ContainerRecord;
}

async function main(): Promise<void> {
  const [dataRoot, execRoot, work] = process.argv.slice(2) as [string, string, string];
  const recs = new Map<string, ContainerRecord>();
  const lookup = (ref: string) => recs.get(ref) ?? [...recs.values()].find((r) => r.Name === `/${ref}`);
  const log = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };
  const hooks = await createBridgeNetworking({ dataRoot, execRoot, log, lookup });
  await hooks.controller.createNetwork({ name: 'app' });
  const web = record('a'.repeat(64), 'web', { hc: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } } });
  const cli = record('b'.repeat(64), 'cli', { hc: { Links: ['/web:/cli/w'], ExtraHosts: ['gw:host-gateway'] } });
  recs.set(web.ID, web).set(cli.ID, cli);
  const out: Record<string, unknown> = {};
  // A missing network passes create and fails the start, in dockerd's words.
  const bad = record('c'.repeat(64), 'bad', { hc: { NetworkMode: 'nosuch' } });
  await hooks.validate();
  bad.NetworkSettings = await hooks.created(bad, {});
  let err = '';
  await hooks.setup(bad, work, () => 0).catch((e: Error) => (err = e.message));
  out.validateError = err;
  web.NetworkSettings = await hooks.created(web, { app: { Aliases: ['www'] } });
  cli.NetworkSettings = await hooks.created(cli, {});
  for (const r of [web, cli]) {
    const dir = path.join(work, r.ID.slice(0, 4));
    fs.mkdirSync(dir, { recursive: true });
    const s = await hooks.setup(r, dir, () => 0);
    out[r.Name] = { netnsMounted: fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(s.netns), env: s.env, hosts: fs.readFileSync(s.etcFiles.hosts!, 'utf8'), resolv: fs.readFileSync(s.etcFiles.resolvConf!, "utf8"), settings: structuredClone(r.NetworkSettings) };
  }
  await hooks.teardown(web);
  out.afterTeardown = web.NetworkSettings;
  await hooks.removed(web);
  await hooks.removed(cli);
  await hooks.controller.removeNetwork('app');
  out.sandboxesLeft = fs.readdirSync(path.join(execRoot, 'netns'));
  await hooks.controller.close();
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
