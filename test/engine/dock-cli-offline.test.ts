// The dock CLI against the docker CLI 28 with a recording fake engine (no daemon): --help of every
// command, usage errors and their exit codes, and the requests each command sends (the create body
// of run/create for a matrix of flags, compared field by field with the docker CLI's own request).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { DOCKER_CLI } from './lib/docker-cli';
import { dock, dockerCli, normalize, same } from './lib/dock-cli';
import { startStubEngine, type Recorded, type StubEngine } from './lib/stub-engine';

const skip = fs.existsSync(DOCKER_CLI) ? undefined : `${DOCKER_CLI} missing`;
let stub: StubEngine;
let work: string;

before(async () => {
  if (skip) return;
  stub = await startStubEngine();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dock-offline-'));
});
after(async () => {
  await stub?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const GROUPS = ['container', 'image', 'network', 'system', 'volume'];
const OUT_OF_SCOPE = new Set(['daemon', 'build', 'search', 'builder', 'checkpoint', 'context', 'manifest', 'plugin', 'trust', 'swarm', 'bake', 'buildx', 'compose']);

function listed(helpText: string, section: string): string[] {
  const m = new RegExp(`${section}:\\n((?:  \\S.*\\n)+)`).exec(helpText);
  return m ? m[1]!.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[0]!) : [];
}

test('--help of every command matches the docker CLI (the binary name aside)', { skip }, async () => {
  const root = await dockerCli(stub, ['--help']);
  const top = [...listed(root.stdout, 'Common Commands'), ...listed(root.stdout, 'Commands')].filter((c) => !OUT_OF_SCOPE.has(c));
  const paths: string[][] = top.map((c) => [c]);
  for (const g of GROUPS) {
    const h = await dockerCli(stub, [g, '--help']);
    paths.push([g]);
    for (const c of listed(h.stdout, 'Commands')) if (!OUT_OF_SCOPE.has(c)) paths.push([g, c]);
  }
  assert.ok(paths.length > 70, `found ${paths.length} command paths`);
  const inScope = (t: string) =>
    t
      .split('\n')
      .filter((l) => !OUT_OF_SCOPE.has(l.trim().split(/\s+/)[0]!))
      .join('\n');
  for (const p of paths) await same(assert, stub, [...p, '--help'], { stdout: inScope });
});

test('the root help lists docker\'s commands that dock has, in docker\'s layout', { skip }, async () => {
  const d = await dockerCli(stub, ['--help']);
  const k = await dock(stub, ['--help']);
  const drop = (s: string) =>
    normalize(s)
      .split('\n')
      .filter((l) => !OUT_OF_SCOPE.has(l.trim().split(/\s+/)[0]!) && !/context|Swarm Commands|^For more help|^\s*daemon \(overrides DOCKER_HOST/.test(l))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  assert.equal(drop(k.stdout), drop(d.stdout));
});

test('usage errors: wording, stream and exit status as docker', { skip }, async () => {
  // No arguments: the help goes to stderr, exit 0 (its command list differs: out-of-scope commands).
  const none = await dock(stub, []);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^Usage:  dock \[OPTIONS\] COMMAND\n/);
  const cases = [
    ['frob'],
    ['container'],
    ['container', 'frob'],
    ['--foo'],
    ['-H'],
    ['run'],
    ['run', '--foo', 'busybox'],
    ['run', '-x', 'busybox'],
    ['rm'],
    ['exec', 'c'],
    ['images', 'a', 'b'],
    ['login', 'a', 'b'],
    ['port', 'a', 'b', 'c'],
    ['rename', 'a'],
    ['ps', 'x'],
    ['ps', '-n', 'x'],
    ['ps', '-h'],
    ['run', '-m', 'abc', 'busybox'],
    ['run', '--ulimit', 'x', 'busybox'],
    ['run', '--ulimit', 'nofile=10:5', 'busybox'],
    ['run', '--mount', 'type=foo', 'busybox'],
    ['run', '--mount', 'type=bind,dst=/x,tmpfs-size=1m', 'busybox'],
    ['run', '--cpus', 'x', 'busybox'],
    ['run', '--stop-timeout', 'x', 'busybox'],
    ['run', '--health-interval', '5', 'busybox'],
    ['run', '--device-read-bps', 'x', 'busybox'],
    ['run', '--add-host', 'x', 'busybox'],
    ['run', '--dns', 'x', 'busybox'],
    ['run', '--label', ' =x', 'busybox'],
    ['run', '--sysctl', 'kernel.x=1', 'busybox'],
    ['run', '-a', 'foo', 'busybox'],
    ['help', 'frob'],
    ['-v'],
  ];
  for (const argv of cases) {
    await same(assert, stub, argv, { stdout: (s) => s.replace(/^(Docker|dock) version \S+, build \S+/, 'dock version V, build B') });
  }
});

test('validation of run/create options: message, "Run ... --help" and exit 125', { skip }, async () => {
  const bad = [
    ['-p', 'abc'],
    ['-p', '1:2:3:4'],
    ['-p', '80-81:90'],
    ['-p', '80/xyz'],
    ['-p', 'published=80,target'],
    ['--expose', '1:2'],
    ['--expose', 'x-y'],
    ['--restart', 'always', '--rm'],
    ['--restart', ':3'],
    ['--restart', 'on-failure:x'],
    ['--pid', 'bogus'],
    ['--uts', 'x'],
    ['--userns', 'x'],
    ['--cgroupns', 'x'],
    ['--memory-swappiness', '101'],
    ['--no-healthcheck', '--health-cmd', 'x'],
    ['--health-retries', '-1'],
    ['--mac-address', 'zz'],
    ['--security-opt', 'foo'],
    ['--security-opt', 'seccomp=/nonexistent.json'],
    ['--storage-opt', 'x'],
    ['--log-driver', 'none', '--log-opt', 'a=b'],
    ['--device', 'x:y:z:w'],
    ['--device', 'relative'],
    ['--device', '/dev/null:rel'],
    ['--env-file', '/nonexistent/env'],
    ['--label-file', '/nonexistent/l'],
    ['--network', 'a', '--network', 'a'],
    ['--network', 'host', '--network', 'mynet'],
    ['--network-alias', 'x'],
    ['--link', 'a:b'],
    ['--pull', 'sometimes'],
  ];
  for (const flags of bad) await same(assert, stub, ['run', ...flags, 'busybox']);
  for (const flags of bad.slice(0, 6)) await same(assert, stub, ['create', ...flags, 'busybox']);
  stub.take();
});

function createBodies(rs: Recorded[]): Record<string, unknown>[] {
  return rs.filter((r) => r.path === '/containers/create').map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

/** Fields the docker CLI fills from Go map iteration (random order): compared as sets. */
function canonical(b: Record<string, unknown>): Record<string, unknown> {
  const c = structuredClone(b);
  if (Array.isArray(c.Env)) c.Env = [...(c.Env as string[])].sort();
  const hc = c.HostConfig as Record<string, unknown>;
  if (Array.isArray(hc.Binds)) hc.Binds = [...(hc.Binds as string[])].sort();
  return c;
}

test('run/create send the create body the docker CLI sends, for every flag family', { skip }, async () => {
  const env = path.join(work, 'env');
  fs.writeFileSync(env, '# comment\nFROM_FILE=1\nHOME\n  SPACED=x y\n');
  const seccomp = path.join(work, 'seccomp.json');
  fs.writeFileSync(seccomp, '{ "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [] }\n');
  const matrix: string[][] = [
    [],
    ['-it', '--name', 'x'],
    ['-t'],
    ['-a', 'stdout', '-a', 'STDERR'],
    ['-i', '-a', 'stdin'],
    ['-p', '80', '-p', '127.0.0.1:8080:80/udp', '-p', '8000-8002:9000-9002', '-p', '[::1]:53:53/udp', '-p', 'published=81,target=82', '--expose', '7000-7001', '-P'],
    ['-v', '/a:/b', '-v', 'vol:/c:ro', '-v', '/anon', '-v', './rel:/r', '--volumes-from', 'other:ro', '--volume-driver', 'local'],
    ['--mount', 'type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770', '--mount', 'type=bind,src=/x,dst=/y,readonly,bind-propagation=rshared', '--mount', 'type=volume,source=v,target=/v,volume-label=a=b,volume-opt=o=p,volume-nocopy', '--mount', 'src=./r,dst=/r,type=bind,bind-recursive=disabled'],
    ['--tmpfs', '/run:rw,size=1m', '--tmpfs', '/x'],
    ['-e', 'A=1', '-e', 'B', '-e', 'PATH', '--env-file', env, '-l', 'k=v', '-l', 'flag', '--label', 'x.y=z'],
    ['--ulimit', 'nofile=10:20', '--ulimit', 'core=-1', '--device', '/dev/null', '--device', '/dev/zero:/dev/z:r', '--device-cgroup-rule', 'c 1:3 rwm', '--gpus', 'all'],
    ['-m', '10m', '--memory-swap', '-1', '--memory-reservation', '5m', '--kernel-memory', '50m', '--cpus', '1.5', '-c', '512', '--cpuset-cpus', '0', '--cpu-period', '100000', '--cpu-quota', '50000', '--pids-limit', '10', '--oom-kill-disable', '--oom-score-adj', '100', '--memory-swappiness', '10', '--shm-size', '64m'],
    ['--blkio-weight', '300', '--blkio-weight-device', '/dev/sda:200', '--device-read-bps', '/dev/sda:1mb', '--device-write-iops', '/dev/sda:100'],
    ['--restart', 'on-failure:3', '--init', '--stop-signal', 'SIGINT', '--stop-timeout', '5', '--rm=false'],
    ['--health-cmd', 'true', '--health-interval', '1s', '--health-retries', '3', '--health-timeout', '2s', '--health-start-period', '1m'],
    ['--no-healthcheck'],
    ['--cap-add', 'net_admin', '--cap-add', 'CAP_SYS_ADMIN', '--cap-drop', 'all', '--privileged', '--read-only', '--security-opt', 'no-new-privileges', '--security-opt', `seccomp=${seccomp}`, '--security-opt', 'apparmor=unconfined', '--security-opt', 'systempaths=unconfined'],
    ['--hostname', 'h', '--domainname', 'd', '-u', '1000:1000', '-w', '/tmp', '--entrypoint', 'sh', '--group-add', 'audio', '--init=false'],
    ['--entrypoint', ''],
    ['--network', 'none', '--dns', '8.8.8.8', '--dns', '::1', '--dns-search', 'example.com', '--dns-option', 'ndots:2', '--add-host', 'h:1.2.3.4', '--add-host', 'g=host-gateway'],
    ['--network', 'mynet', '--network-alias', 'a1', '--ip', '10.0.0.5', '--mac-address', '92:d0:c6:0a:29:33', '--link', 'other:alias'],
    ['--network', 'name=n1,alias=x,ip=10.1.1.1', '--network', 'n2'],
    ['--pid', 'host', '--ipc', 'shareable', '--uts', 'host', '--userns', 'host', '--cgroupns', 'private', '--cgroup-parent', '/p', '--runtime', 'runc', '--isolation', 'default'],
    ['--sysctl', 'net.ipv4.ip_forward=1', '--storage-opt', 'size=1G', '--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', '--annotation', 'a=b'],
    ['--cidfile', path.join(work, 'cid-never-created'), '--platform', 'linux/amd64', '--pull', 'never', '-q'],
  ];
  for (const flags of matrix) {
    stub.take();
    const d = await dockerCli(stub, ['create', ...flags, 'busybox', 'sh', '-c', 'x']);
    const dReq = stub.take();
    fs.rmSync(path.join(work, 'cid-never-created'), { force: true });
    const k = await dock(stub, ['create', ...flags, 'busybox', 'sh', '-c', 'x']);
    const kReq = stub.take();
    fs.rmSync(path.join(work, 'cid-never-created'), { force: true });
    assert.equal(k.code, d.code, `create ${flags.join(' ')}: ${k.stderr} / ${d.stderr}`);
    assert.equal(k.stdout, d.stdout);
    const [db] = createBodies(dReq);
    const [kb] = createBodies(kReq);
    assert.ok(db, `docker sent a create for ${flags.join(' ')}: ${d.stderr}`);
    assert.deepEqual(canonical(kb!), canonical(db), `create body for ${flags.join(' ')}`);
    const dq = dReq.find((r) => r.path === '/containers/create')!.query;
    const kq = kReq.find((r) => r.path === '/containers/create')!.query;
    assert.deepEqual(kq, dq, `create query for ${flags.join(' ')}`);
  }
});

/** The requests of one command, reduced to what an engine acts on. */
function shape(rs: Recorded[]): unknown[] {
  return rs.map((r) => ({
    method: r.method,
    path: r.path,
    query: r.query,
    body: r.body && r.headers['content-type']?.includes('json') ? JSON.parse(r.body) : r.body.length,
    auth: r.headers['x-registry-auth'],
    contentType: r.method === 'PUT' || r.path.endsWith('/load') ? r.headers['content-type'] : undefined,
  }));
}

test('other commands send the docker CLI\'s requests (paths, queries, bodies, auth headers)', { skip }, async () => {
  const tarFile = path.join(work, 'x.tar');
  fs.writeFileSync(tarFile, Buffer.alloc(1024));
  const cmds: string[][] = [
    ['ps', '-a', '--filter', 'status=exited', '--filter', 'label=a=b', '-n', '3', '-s'],
    ['ps', '-l', '--format', '{{.Size}}'],
    ['images', '-a', '--filter', 'dangling=true', 'busybox'],
    ['stop', '-t', '3', '-s', 'KILL', 'c1', 'c2'],
    ['restart', 'c1'],
    ['kill', '-s', 'HUP', 'c1'],
    ['rm', '-f', '-v', 'c1', '/c2/'],
    ['start', 'c1'],
    ['pause', 'c1'],
    ['rename', 'c1', 'c2'],
    ['update', '--memory', '10m', '--cpus', '0.5', '--restart', 'always', '--pids-limit', '5', 'c1'],
    ['logs', '-f', '-t', '--tail', '5', '--since', '1700000000', '--until', '2023-11-14T22:13:20Z', '--details', 'c1'],
    ['exec', '-d', '-u', 'root', '-w', '/tmp', '-e', 'A=1', '--privileged', 'c1', 'sh', '-c', 'x'],
    ['exec', 'c1', 'true'],
    ['top', 'c1', '-o', 'pid'],
    ['commit', '-a', 'me', '-m', 'msg', '-c', 'CMD ["sh"]', '-c', 'ENV A=b', '--pause=false', 'c1', 'repo/x:tag'],
    ['commit', 'c1'],
    ['tag', 'busybox', 'localhost:5000/x/y'],
    ['rmi', '-f', '--no-prune', 'a', 'b'],
    ['pull', 'busybox'],
    ['pull', '-a', 'localhost:5000/x'],
    ['pull', 'busybox@sha256:' + 'a'.repeat(64)],
    ['push', 'localhost:5000/x/y:1'],
    ['import', '-c', 'CMD ["sh"]', '-m', 'hi', tarFile, 'imp:1'],
    ['load', '-i', tarFile],
    ['save', '-o', path.join(work, 'out.tar'), 'a', 'b'],
    ['volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '--label', 'a=b', 'v1'],
    ['volume', 'create'],
    ['volume', 'rm', '-f', 'v1'],
    ['volume', 'ls', '-f', 'dangling=true'],
    ['volume', 'prune', '-f', '-a'],
    ['network', 'create', '--subnet', '10.9.0.0/24', '--gateway', '10.9.0.1', '--ip-range', '10.9.0.128/25', '--aux-address', 'h=10.9.0.5', '--label', 'k=v', '-o', 'mtu=1400', '--internal', 'n1'],
    ['network', 'create', '--ipv6=false', '--ipv4=true', 'n2'],
    ['network', 'connect', '--alias', 'a,b', '--ip', '10.9.0.9', 'n1', 'c1'],
    ['network', 'connect', '--link', 'x:y', '--driver-opt', 'k=v', 'n1', 'c1'],
    ['network', 'disconnect', '-f', 'n1', 'c1'],
    ['network', 'prune', '-f', '--filter', 'until=1h'],
    ['container', 'prune', '-f'],
    ['image', 'prune', '-a', '-f'],
    ['system', 'prune', '-f', '--volumes'],
    ['events', '--since', '1700000000', '--until', '1700000001', '-f', 'type=container', '-f', 'event=die'],
    ['wait', 'c1'],
    ['attach', '--no-stdin', 'c1'],
  ];
  for (const argv of cmds) {
    stub.take();
    const d = await dockerCli(stub, argv);
    const dReq = shape(stub.take());
    const k = await dock(stub, argv);
    const kReq = shape(stub.take());
    if (['stop', 'kill', 'rm', 'pause'].includes(argv[0]!)) {
      // docker sends these in parallel (parallelOperation): the order is not defined.
      const byPath = (a: unknown, b: unknown) => ((a as { path: string }).path < (b as { path: string }).path ? -1 : 1);
      dReq.sort(byPath);
      kReq.sort(byPath);
    }
    assert.equal(k.code, d.code, `${argv.join(' ')}: ${k.stderr} / ${d.stderr}`);
    assert.equal(normalize(k.stdout), normalize(d.stdout), `${argv.join(' ')}: stdout`);
    assert.deepEqual(kReq, dReq, `requests of ${argv.join(' ')}`);
  }
});

test('JSON-message streams render as docker renders them, in a pipe and on a terminal', { skip }, async () => {
  const lines = [
    { status: 'Pulling from library/busybox', id: 'latest' },
    { status: 'Pulling fs layer', progressDetail: {}, id: 'aaaaaaaaaaaa' },
    { status: 'Pulling fs layer', progressDetail: {}, id: 'bbbbbbbbbbbb' },
    { status: 'Waiting', progressDetail: {}, id: 'bbbbbbbbbbbb' },
    { status: 'Downloading', progressDetail: { current: 120000, total: 2200000 }, progress: '[>   ] 120kB/2.2MB', id: 'aaaaaaaaaaaa' },
    { status: 'Downloading', progressDetail: { current: 2200000, total: 2200000 }, progress: '[====>] 2.2MB/2.2MB', id: 'aaaaaaaaaaaa' },
    { status: 'Verifying Checksum', progressDetail: {}, id: 'aaaaaaaaaaaa' },
    { status: 'Download complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
    { status: 'Extracting', progressDetail: { current: 32768, total: 2200000 }, progress: '[>  ] 32kB/2.2MB', id: 'aaaaaaaaaaaa' },
    { status: 'Extracting', progressDetail: { current: 5000 }, id: 'bbbbbbbbbbbb' },
    { status: 'Pull complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
    { status: 'Pull complete', progressDetail: {}, id: 'bbbbbbbbbbbb' },
    { aux: { ID: 'sha256:x' } },
    { status: `Digest: sha256:${'c'.repeat(64)}` },
    { status: 'Status: Downloaded newer image for busybox:latest' },
  ];
  const failing = [{ status: 'Pulling from library/busybox', id: 'latest' }, { errorDetail: { message: 'manifest unknown', code: 2 }, error: 'manifest unknown' }];
  const s2 = await startStubEngine((r) => {
    if (r.path === '/images/create' && r.query.tag?.[0] === 'bad') return { body: failing.map((l) => JSON.stringify(l)).join('\r\n'), headers: { 'Content-Type': 'application/json' } };
    if (r.path === '/images/create') return { body: lines.map((l) => JSON.stringify(l)).join('\r\n') + '\r\n', headers: { 'Content-Type': 'application/json' } };
    if (r.path === '/images/load') return { body: '{"stream":"Loaded image: busybox:latest\\n"}\r\n', headers: { 'Content-Type': 'application/json' } };
    return undefined;
  });
  try {
    await same(assert, s2, ['pull', 'busybox']);
    await same(assert, s2, ['pull', '-q', 'busybox']);
    await same(assert, s2, ['pull', 'busybox:bad']);
    await same(assert, s2, ['load'], { input: 'not really a tar' });
    // On a terminal: the same bytes, cursor movements and progress bars included (width 120).
    const env = { DOCKER_HOST: s2.host, DOCKER_CONFIG: s2.configDir, TERM: 'xterm' };
    const { runInPty } = await import('./lib/pty');
    const { dockBin } = await import('./lib/dock-cli');
    const d = await runInPty([DOCKER_CLI, 'pull', 'busybox'], [], { env, size: [40, 120] });
    const k = await runInPty([process.execPath, '--', dockBin(), 'pull', 'busybox'], [], { env, size: [40, 120] });
    assert.equal(k.code, d.code);
    assert.match(d.out, /aaaaaaaaaaaa: Downloading \[=*>/, 'docker drew bars');
    assert.equal(k.out, d.out);
  } finally {
    await s2.stop();
  }
});

test('TLS: -H tcp:// with --tlsverify and client certificates, or DOCKER_TLS_VERIFY/DOCKER_CERT_PATH', { skip: skip ?? (fs.existsSync('/usr/bin/openssl') ? undefined : 'openssl missing') }, async () => {
  const { execFileSync } = await import('node:child_process');
  const https = await import('node:https');
  const dir = path.join(work, 'tls');
  fs.mkdirSync(dir);
  const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test-ca']);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  ossl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  fs.writeFileSync(path.join(dir, 'client.cnf'), 'extendedKeyUsage=clientAuth\n');
  ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'client.csr', '-subj', '/CN=client']);
  ossl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'cert.pem', '-days', '2', '-extfile', 'client.cnf']);
  const rd = (f: string) => fs.readFileSync(path.join(dir, f));
  const server = https.createServer({ key: rd('server-key.pem'), cert: rd('server.pem'), ca: rd('ca.pem'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.setHeader('Api-Version', '1.45');
    res.setHeader('Ostype', 'linux');
    if (req.url === '/_ping') return void res.end('OK');
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ Version: 'tls-engine', ApiVersion: '1.45', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const host = `tcp://127.0.0.1:${port}`;
    const target = { host: 'unix:///nonexistent', configDir: dir };
    const flags = ['-H', host, '--tlsverify', '--tlscacert', path.join(dir, 'ca.pem'), '--tlscert', path.join(dir, 'cert.pem'), '--tlskey', path.join(dir, 'key.pem')];
    const r = await same(assert, target, [...flags, 'version', '--format', '{{.Server.Version}}']);
    assert.equal(r.dock.stdout, 'tls-engine\n');
    const env = { DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir };
    const d = await dockerCli(target, ['version', '--format', '{{.Server.Version}}'], { env });
    const k = await dock(target, ['version', '--format', '{{.Server.Version}}'], { env });
    assert.equal(k.stdout, d.stdout);
    assert.equal(k.stdout, 'tls-engine\n');
    // Without a client certificate the engine refuses the connection.
    const bad = await dock(target, ['-H', host, '--tlsverify', '--tlscacert', path.join(dir, 'ca.pem'), '--tlscert', '', 'version', '--format', '{{.Server.Version}}'], { env: { DOCKER_CERT_PATH: path.join(dir, 'nothing') } });
    assert.notEqual(bad.code, 0);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
