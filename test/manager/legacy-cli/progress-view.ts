// Shows pull/push progress: docker-like bars (cli-progress) when stdout is a terminal, otherwise one
// plain line per status change ("<id>: Pull complete"), which is what docker prints into a pipe.
import type { SingleBar } from 'cli-progress';
import type { ProgressEvent, ProgressSink } from '../../../src/manager/images/progress';
import { humanSize } from './context';

export type ProgressView = { sink: ProgressSink; stop(): void };

export function createProgressView(out: NodeJS.WriteStream = process.stdout): ProgressView {
  if (!out.isTTY) {
    const last = new Map<string, string>();
    return {
      sink: (e: ProgressEvent) => {
        if (e.status === 'Downloading' || e.status === 'Pushing') {
          if (last.get(e.id) === e.status) return;
        }
        last.set(e.id, e.status);
        out.write(`${e.id}: ${e.status}${e.detail ? ` ${e.detail}` : ''}\n`);
      },
      stop: () => undefined,
    };
  }
  // Loaded only for terminals: pipes never pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MultiBar } = require('cli-progress') as typeof import('cli-progress');
  const multi = new MultiBar(
    {
      stream: out,
      format: (_opts, params, payload: { id: string; status: string; showBar: boolean }) => {
        if (!payload.showBar) return `${payload.id}: ${payload.status}`;
        const width = 50;
        const filled = params.total > 0 ? Math.min(width, Math.floor((params.value / params.total) * width)) : 0;
        const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(width - filled);
        return `${payload.id}: ${payload.status.padEnd(11)} [${bar}]  ${humanSize(params.value)}/${humanSize(params.total)}`;
      },
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 50,
      fps: 10,
      autopadding: true,
      linewrap: false,
    },
  );
  const bars = new Map<string, SingleBar>();
  let stopped = false;
  return {
    sink: (e: ProgressEvent) => {
      let bar = bars.get(e.id);
      const showBar = (e.status === 'Downloading' || e.status === 'Pushing') && e.total !== undefined;
      const status = e.detail ? `${e.status} ${e.detail}` : e.status;
      if (!bar) {
        bar = multi.create(e.total ?? 0, e.current ?? 0, { id: e.id, status, showBar });
        bars.set(e.id, bar);
      } else {
        if (e.total !== undefined) bar.setTotal(e.total);
        bar.update(e.current ?? bar.getProgress() * bar.getTotal(), { id: e.id, status, showBar });
      }
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
  };
}
