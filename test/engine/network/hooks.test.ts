// BridgeNetworking, the engine's NetworkHooks over the controller, driven as the engine drives it
// (validate, created, setup, teardown, removed) inside a test namespace: NetworkSettings as inspect
// shows them, the /etc files, --link variables, and nothing left afterwards.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createNetns } from '../lib/netns';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;

test('BridgeNetworking gives the engine Docker-shaped settings, files and link variables', { skip }, () => {
  const ns = createNetns('knethooks');
  const work = fs.mkdtempSync('/tmp/knet-hooks-');
  try {
    const [data, exec] = ['data', 'exec'].map((d) => path.join(work, d));
    const r = spawnSync('nsenter', [`--net=${ns.path}`, '--', process.execPath, '--import', 'tsx', path.join(__dirname, 'lib', 'hooks-scenario.ts'), data!, exec!, work], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(out.validateError, 'network nosuch not found');
    const web = out['/web'];
    assert.ok(web.netnsMounted);
    assert.equal(web.settings.IPAddress, '172.17.0.2');
    assert.equal(web.settings.Networks.bridge.IPAddress, '172.17.0.2');
    assert.equal(web.settings.Networks.bridge.Aliases, null);
    assert.equal(web.settings.Networks.app.IPAddress, '172.18.0.2');
    assert.deepEqual(web.settings.Networks.app.Aliases, ['www', 'a'.repeat(12)]);
    assert.deepEqual(web.settings.Ports['80/tcp'][0], { HostIp: '0.0.0.0', HostPort: '8080' });
    // On a user network: the embedded server at the network's gateway, dockerd's ndots:0.
    assert.match(web.resolv, /^nameserver 172\.18\.0\.1\n(.*\n)*options (.* )?ndots:0\n$/);
    const cli = out['/cli'];
    assert.doesNotMatch(cli.resolv, /nameserver 172\./, 'the default bridge has no embedded DNS');
    assert.ok(cli.env.includes('W_PORT_80_TCP=tcp://172.17.0.2:80'));
    assert.ok(cli.env.includes('W_ENV_FOO=bar'));
    assert.ok(cli.env.includes('W_NAME=/cli/w'));
    assert.match(cli.hosts, /\n172\.17\.0\.1\tgw\n172\.17\.0\.2\tw aaaaaaaaaaaa web\n172\.17\.0\.3\tbbbbbbbbbbbb\n$/);
    assert.equal(out.afterTeardown.IPAddress, '');
    assert.deepEqual(out.afterTeardown.Ports, {});
    assert.deepEqual(out.sandboxesLeft, []);
  } finally {
    ns.remove();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
