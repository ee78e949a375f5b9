// Networking through the docker CLI, each engine inside a network namespace this test creates:
// published ports (reached on 127.0.0.1 in that namespace), the default bridge with --link, user
// networks with DNS by name, alias and short id, connect/disconnect, and Docker's errors; the same
// assertions against dock and dockerd 20.10. Nothing touches the host's network.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { docker, type CliResult } from './lib/docker-cli';
import type { Engine } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, importBusybox, startEngine } from './lib/engines';
import { createNetns, type Netns } from './lib/netns';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HTTPD = ['busybox', 'sh', '-c', 'echo "hello from $(hostname)" > /index.html; exec httpd -f -p 80 -h /'];

for (const kind of ENGINE_KINDS) {
  describe(`networking on ${kind}`, { skip: engineSkipReason(kind) }, () => {
    let e: Engine;
    let ns: Netns;
    const d = (args: string[]) => docker(e, args);
    before(async () => {
      ns = createNetns('knet');
      e = await startEngine(kind, { netns: ns });
      await importBusybox(e);
    });
    after(async () => {
      await e?.stop();
      ns?.remove();
    });

    /** An HTTP GET from inside the test namespace (standing in for the host); curl, since the host's static busybox wget crashes in glibc's resolver. */
    const fetchHere = async (url: string): Promise<string> => {
      for (let i = 0; i < 30; i++) {
        try {
          return ns.run(['curl', '-sf', '--max-time', '2', url]);
        } catch {
          await sleep(100);
        }
      }
      return ns.run(['curl', '-sf', '--max-time', '2', url]);
    };

    test('published ports: fixed, random and ranges; port; ps; a clash is refused', async () => {
      ok(await d(['run', '-d', '--name', 'web', '--hostname', 'webhost', '-p', '127.0.0.1:18080:80', '-p', '18081:80', ...HTTPD]), 'run');
      assert.equal(await fetchHere('http://127.0.0.1:18080/'), 'hello from webhost\n');
      assert.equal(await fetchHere('http://127.0.0.1:18081/'), 'hello from webhost\n');
      const port = await d(['port', 'web', '80']);
      assert.match(port.stdout, /127\.0\.0\.1:18080/);
      assert.match(port.stdout, /0\.0\.0\.0:18081/);
      assert.match((await d(['ps', '--format', '{{.Ports}}'])).stdout, /127\.0\.0\.1:18080->80\/tcp/);
      ok(await d(['run', '-d', '--name', 'rnd', '-p', '80', '-p', '19000-19001:81-82', ...HTTPD]), 'run random');
      const rp = (await d(['port', 'rnd', '80'])).stdout.trim().split('\n')[0]!;
      const hostPort = Number(rp.split(':').at(-1));
      assert.ok(hostPort > 1024, rp);
      assert.equal(await fetchHere(`http://127.0.0.1:${hostPort}/`), `hello from ${(await d(['inspect', '-f', '{{.Config.Hostname}}', 'rnd'])).stdout.trim()}\n`);
      assert.match((await d(['port', 'rnd', '82'])).stdout, /:19001/);
      const clash = await d(['run', '-d', '-p', '127.0.0.1:18080:80', 'busybox', 'sleep', '5']);
      assert.equal(clash.code, 125);
      assert.match(clash.stderr, /port is already allocated/);
      ok(await d(['rm', '-f', 'web', 'rnd']), 'rm');
    });

    test('default bridge: 172.17.0.0/16, no name resolution, --link hosts entry and variables', async () => {
      ok(await d(['run', '-d', '--name', 'db', '--expose', '3306', '-e', 'DBPASS=secret', 'busybox', 'sleep', '600']), 'run db');
      const ip = (await d(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'db'])).stdout.trim();
      assert.match(ip, /^172\.17\.\d+\.\d+$/);
      const r = await d(['run', '--rm', '--name', 'client', '--link', 'db:mysql', 'busybox', 'sh', '-c', 'env | grep ^MYSQL | sort; grep mysql /etc/hosts; nslookup db >/dev/null 2>&1 && echo resolves || echo no-dns']);
      ok(r, 'run client');
      assert.match(r.stdout, new RegExp(`MYSQL_ENV_DBPASS=secret\\nMYSQL_NAME=/client/mysql\\nMYSQL_PORT=tcp://${ip.replace(/\./g, '\\.')}:3306\\nMYSQL_PORT_3306_TCP=tcp://${ip}:3306\\nMYSQL_PORT_3306_TCP_ADDR=${ip}\\nMYSQL_PORT_3306_TCP_PORT=3306\\nMYSQL_PORT_3306_TCP_PROTO=tcp\\n`));
      assert.match(r.stdout, new RegExp(`${ip}\\s+mysql [a-f0-9]{12} db\\n`));
      assert.match(r.stdout, /no-dns/);
      ok(await d(['rm', '-f', 'db']), 'rm');
    });

    test('user networks: names, aliases and short ids resolve on the network only; connect and disconnect', async () => {
      ok(await d(['network', 'create', '--subnet', '10.77.0.0/24', '--label', 'suite=net', 'appnet']), 'network create');
      ok(await d(['run', '-d', '--name', 'api', '--network', 'appnet', '--network-alias', 'backend', '--hostname', 'apihost', ...HTTPD]), 'run api');
      const id12 = (await d(['inspect', '-f', '{{.Id}}', 'api'])).stdout.trim().slice(0, 12);
      const q = await d(['run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', `wget -qO- http://api/; wget -qO- http://backend/; wget -qO- http://${id12}/`]);
      ok(q, 'query');
      assert.equal(q.stdout, 'hello from apihost\n'.repeat(3));
      const ipOn = (await d(['inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'api'])).stdout.trim();
      assert.match(ipOn, /^10\.77\.0\.\d+$/);
      const other = await d(['run', '--rm', 'busybox', 'sh', '-c', 'wget -qO- -T 2 http://api/ 2>&1 || echo unreachable']);
      assert.match(other.stdout, /bad address|unreachable/);
      ok(await d(['run', '-d', '--name', 'late', 'busybox', 'sleep', '600']), 'run late');
      ok(await d(['network', 'connect', '--alias', 'latecomer', 'appnet', 'late']), 'connect');
      const seen = await d(['exec', 'late', 'wget', '-qO-', 'http://backend/']);
      assert.equal(seen.stdout, 'hello from apihost\n');
      const insp = JSON.parse((await d(['network', 'inspect', 'appnet'])).stdout) as { Containers: Record<string, { Name: string }>; Labels: Record<string, string> }[];
      assert.deepEqual(Object.values(insp[0]!.Containers).map((c) => c.Name).sort(), ['api', 'late']);
      assert.deepEqual(insp[0]!.Labels, { suite: 'net' });
      ok(await d(['network', 'disconnect', 'appnet', 'late']), 'disconnect');
      const gone = await d(['exec', 'late', 'sh', '-c', 'wget -qO- -T 2 http://backend/ 2>&1 || echo unreachable']);
      assert.match(gone.stdout, /bad address|unreachable/);
      const busy = await d(['network', 'rm', 'appnet']);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /has active endpoints/);
      ok(await d(['rm', '-f', 'api', 'late']), 'rm');
      ok(await d(['network', 'rm', 'appnet']), 'network rm');
    });

    test("network errors in Docker's words, and nothing half-made", async () => {
      ok(await d(['network', 'create', '--subnet', '10.88.0.0/24', 'n1']), 'create n1');
      const dup = await d(['network', 'create', 'n1']);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /network with name n1 already exists/);
      const overlap = await d(['network', 'create', '--subnet', '10.88.0.0/16', 'n2']);
      assert.equal(overlap.code, 1);
      assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
      const bad = await d(['network', 'create', '--subnet', '10.99.0.0/24', '--gateway', '10.98.0.1', 'n3']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /no matching subnet for gateway 10\.98\.0\.1/);
      const outside = await d(['run', '--rm', '--network', 'n1', '--ip', '10.1.2.3', 'busybox', 'true']);
      assert.notEqual(outside.code, 0);
      assert.match(outside.stderr, /does not belong to any of this network's subnets|no configured subnet or ip-range contain the IP address/);
      const names = (await d(['network', 'ls', '--format', '{{.Name}}'])).stdout.trim().split('\n').sort();
      assert.deepEqual(names, ['bridge', 'host', 'n1', 'none']);
      ok(await d(['network', 'rm', 'n1']), 'rm');
      const pr = await d(['network', 'prune', '-f']);
      ok(pr, 'prune');
    });
  });
}
