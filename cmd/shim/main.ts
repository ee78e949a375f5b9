// containerd-shim-keel-v2 (runtime type io.containerd.keel.v2): parses containerd's Go-style flags
// and runs `start`, `delete` or the daemon (no action). `start` prints only the address and
// nothing on stderr; `delete` prints a protobuf DeleteResponse.
import { keelVersion } from '../../src/version';

process.noDeprecation = true;
process.removeAllListeners('warning');

const usage = `Usage: containerd-shim-keel-v2 [-namespace NS] [-address ADDR] [-publish-binary BIN] [-id ID] [-bundle DIR] [-socket PATH] [-debug] [start|delete]

containerd shim v2 for the keel OCI runtime (runtime type io.containerd.keel.v2).
Environment: KEEL_SHIM_BINARY=<runc-compatible binary> selects CliRuntime (default: in-process),
KEEL_SHIM_ROOT (state root, default /run/containerd/keel), KEEL_SHIM_GROUP=container (one shim per container),
KEEL_SHIM_IDLE_MS (how long an idle daemon waits for new containers after Shutdown, default 10000),
KEEL_SHIM_SPARE=0 (no spare daemon kept warm for the next pod), KEEL_SHIM_SPARE_IDLE_MS (how long
an unclaimed spare waits, default 600000), KEEL_SHIM_REUSE (how many pods one daemon serves in turn,
waiting as a spare between them, default 50). -spare runs as such a spare.
`;

type Parsed = { flags: Record<string, string | boolean>; action: string | undefined };

const boolFlags = new Set(['debug', 'v', 'version', 'h', 'help', 'spare']);

/** Go's flag package: -name value, -name=value, --name value; bools take no value. */
function parse(argv: string[]): Parsed {
  const flags: Record<string, string | boolean> = {};
  let action: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) {
      action = a;
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) flags[body.slice(0, eq)] = body.slice(eq + 1);
    else if (boolFlags.has(body)) flags[body] = true;
    else flags[body] = argv[++i] ?? '';
  }
  return { flags, action };
}

async function main(argv: string[]): Promise<number> {
  const { flags, action } = parse(argv);
  if (flags.v || flags.version) {
    process.stdout.write(`containerd-shim-keel-v2 version ${keelVersion}\n`);
    return 0;
  }
  if (flags.h || flags.help) {
    process.stdout.write(usage);
    return 0;
  }
  const f = {
    namespace: String(flags.namespace ?? 'default'),
    address: String(flags.address ?? '/run/containerd/containerd.sock'),
    publishBinary: String(flags['publish-binary'] ?? ''),
    id: String(flags.id ?? ''),
    bundle: String(flags.bundle ?? process.cwd()),
    debug: flags.debug === true,
    socket: typeof flags.socket === 'string' ? flags.socket : undefined,
    listenFd: typeof flags['listen-fd'] === 'string' ? Number(flags['listen-fd']) : undefined,
  };
  if (action === 'start') {
    // The daemon is this same program without the action.
    // A small young generation: the daemon's live heap is a few MB, and V8's default semi-spaces
    // (up to 16 MB each) would otherwise dominate its RSS.
    const self = [process.execPath, '--max-semi-space-size=1', ...process.execArgv, process.argv[1]!, ...argv.filter((a) => a !== 'start')];
    const { startShim } = await import('../../src/shim/start');
    const address = await startShim(f, self);
    process.stdout.write(address);
    return 0;
  }
  if (action !== undefined && action !== 'delete') {
    process.stderr.write(usage);
    return 2;
  }
  const shim = await import('../../src/shim/shim');
  const inProcess = async () => (await import('../../src/shim/inprocess-runtime')).inProcessFactory;
  if (action === 'delete') {
    const out = await shim.deleteShim(f, await inProcess());
    process.stdout.write(out);
    return 0;
  }
  await shim.serveShim(f, keelVersion, await inProcess(), { spare: flags.spare === true });
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`containerd-shim-keel-v2: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
