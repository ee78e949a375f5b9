// Walks a Plan's DAG: a node runs once all its dependencies succeeded, independent nodes run in
// parallel (bounded), and nodes marked serial (container starts: the engine allocates published
// ports non-atomically, compose v2 convergence.go) run one at a time. A failure skips what depends
// on it; the rest still runs, and the first error is thrown at the end.
import type { Plan, PlanNode } from './plan';

export type NodeRunner = (node: PlanNode, results: Map<number, string>) => Promise<string | void>;

export type ExecuteOptions = {
  concurrency?: number;
  /** Nodes that must not run concurrently with each other. */
  serial?: (node: PlanNode) => boolean;
};

/** A promise-chain mutex. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.tail.then(fn);
    this.tail = r.then(
      () => undefined,
      () => undefined,
    );
    return r;
  }
}

export async function executePlan(plan: Plan, run: NodeRunner, o: ExecuteOptions = {}): Promise<Map<number, string>> {
  const limit = o.concurrency ?? 8;
  const results = new Map<number, string>();
  const done = new Set<number>();
  const failed = new Set<number>();
  const running = new Set<number>();
  const errors: unknown[] = [];
  const serial = new Mutex();
  const waiting = new Set(plan.nodes.map((n) => n.id));
  await new Promise<void>((resolve) => {
    const pump = () => {
      for (const n of plan.nodes) {
        if (!waiting.has(n.id)) continue;
        if (n.deps.some((d) => failed.has(d))) {
          waiting.delete(n.id);
          failed.add(n.id);
          continue;
        }
        if (running.size >= limit || !n.deps.every((d) => done.has(d))) continue;
        waiting.delete(n.id);
        running.add(n.id);
        const exec = () => run(n, results);
        (o.serial?.(n) ? serial.run(exec) : exec()).then(
          (r) => {
            if (typeof r === 'string') results.set(n.id, r);
            done.add(n.id);
          },
          (e) => {
            failed.add(n.id);
            errors.push(e);
          },
        ).finally(() => {
          running.delete(n.id);
          pump();
        });
      }
      // Nodes skipped because a dependency failed can free others; loop until stable.
      if (running.size === 0) {
        if ([...waiting].some((id) => plan.nodes[id - 1]!.deps.some((d) => failed.has(d)))) return pump();
        resolve();
      }
    };
    pump();
  });
  if (errors.length) throw errors[0];
  return results;
}
