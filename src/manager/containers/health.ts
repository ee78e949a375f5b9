// Health checks (HEALTHCHECK / --health-*): runs the probe as an exec at each interval, keeps the
// last five results, and moves Health.Status between starting, healthy and unhealthy as dockerd
// does (retries, timeout, start period). Publishes health_status events.
import { messageOf } from '../../errors/index';
import type { Engine } from './engine';
import { ExecStore, createExec, startExec } from './exec';
import type { ContainerRecord, HealthLog } from './types';

const NS = 1_000_000;
const DEFAULT_INTERVAL = 30_000;
const DEFAULT_TIMEOUT = 30_000;
const MAX_OUTPUT = 4096;

export function startHealth(e: Engine, rec: ContainerRecord): () => void {
  const hc = rec.Config.Healthcheck!;
  const test = hc.Test ?? [];
  const cmd = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test[0] === 'CMD' ? test.slice(1) : [];
  if (cmd.length === 0) return () => undefined;
  const interval = hc.Interval ? hc.Interval / NS : DEFAULT_INTERVAL;
  const timeout = hc.Timeout ? hc.Timeout / NS : DEFAULT_TIMEOUT;
  const retries = hc.Retries ?? 3;
  const startPeriod = (hc.StartPeriod ?? 0) / NS;
  const startedAt = Date.now();
  const execs = new ExecStore();
  rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const probe = async () => {
    if (stopped || !rec.State.Running) return;
    const start = new Date();
    let out = '';
    let code = -1;
    try {
      const { Id } = createExec(e, execs, rec.ID, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const r = await startExec(e, execs, Id, { wantStdin: false, output: (_s, d) => (out.length < MAX_OUTPUT ? (out += d.toString()) : undefined) });
      const t = new Promise<number>((resolve) => setTimeout(() => resolve(-2), timeout));
      code = await Promise.race([r.exit, t]);
      if (code === -2) out = `Health check exceeded timeout (${timeout / 1000}s)`;
    } catch (err) {
      out = messageOf(err);
    }
    if (stopped || !rec.State.Health) return;
    const h = rec.State.Health;
    const entry: HealthLog = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: code < 0 ? -1 : code, Output: out.slice(0, MAX_OUTPUT) };
    h.Log = [...h.Log, entry].slice(-5);
    const before = h.Status;
    if (code === 0) {
      h.Status = 'healthy';
      h.FailingStreak = 0;
    } else if (Date.now() - startedAt >= startPeriod || h.Status !== 'starting') {
      h.FailingStreak++;
      if (h.FailingStreak >= retries) h.Status = 'unhealthy';
    }
    if (h.Status !== before) e.event(rec, `health_status: ${h.Status}`);
    await e.d.store.save(rec).catch(() => undefined);
    schedule(interval);
  };
  const schedule = (ms: number) => {
    if (!stopped) timer = setTimeout(() => void probe(), ms);
  };
  schedule(interval);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
