// Child process that owns one NetworkController inside a test network namespace (started through
// nsenter by remote.ts) and serves its methods over the Node IPC channel: the test process itself
// stays in the host namespace, the controller touches only the test's.
import { createNetworkController } from '../../../../src/manager/network/index';
import type { NetworkControllerOptions } from '../../../../src/manager/network/index';

type Call = { id: number; method: string; args: unknown[] };

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2]!) as NetworkControllerOptions;
  const c = (await createNetworkController(opts)) as unknown as Record<string, (...a: unknown[]) => unknown>;
  process.on('message', (m: Call) => {
    void (async () => {
      try {
        if (m.method === '__exit') {
          await c.close!();
          process.send!({ id: m.id, result: null }, () => process.exit(0));
          return;
        }
        const result = await c[m.method]!(...m.args);
        process.send!({ id: m.id, result: result === undefined ? null : result });
      } catch (e) {
        const err = e as Error & { kind?: string; holder?: string };
        process.send!({ id: m.id, error: { message: err.message, kind: err.kind, holder: err.holder } });
      }
    })();
  });
  // The test (or bench) that owns us is gone: a daemon killed with its parent, as a kill -9 would.
  process.on('disconnect', () => process.exit(137));
  process.send!({ ready: true });
}

main().catch((e) => {
  process.stderr.write(`controller host: ${(e as Error).stack}\n`);
  process.exit(1);
});
