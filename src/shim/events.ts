// Publishes task events to containerd over ttrpc (Events/Forward on $TTRPC_ADDRESS), one at a
// time and in order, retrying like the runc shim (5 attempts). Knows topics, not task logic.
import type { Logger } from '../log/index';
import { messageOf } from '../errors/index';
import { encode, timestamp, toAny } from './messages';
import { TtrpcClient } from './ttrpc-client';

/** Topic of each event type (containerd runtime/events.go). */
export const Topics: Record<string, string> = {
  TaskCreate: '/tasks/create',
  TaskStart: '/tasks/start',
  TaskExit: '/tasks/exit',
  TaskDelete: '/tasks/delete',
  TaskExecAdded: '/tasks/exec-added',
  TaskExecStarted: '/tasks/exec-started',
  TaskPaused: '/tasks/paused',
  TaskResumed: '/tasks/resumed',
  TaskOOM: '/tasks/oom',
};

/** Where events go; tests record them instead. */
export interface EventSink {
  /** Queues one event; resolves when it was delivered (or finally given up). */
  publish(namespace: string, type: keyof typeof Topics, event: object): Promise<void>;
}

export class TtrpcPublisher implements EventSink {
  private client: TtrpcClient | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly address: string, private readonly log: Logger) {}

  publish(namespace: string, type: string, event: object): Promise<void> {
    const topic = Topics[type]!;
    const req = encode('containerd.events.ForwardRequest', {
      envelope: { timestamp: timestamp(new Date()), namespace, topic, event: toAny(`containerd.events.${type}`, event) },
    });
    const next = this.chain.then(() => this.send(topic, req));
    this.chain = next;
    return next;
  }

  private async send(topic: string, req: Buffer): Promise<void> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        this.client ??= await TtrpcClient.connect(this.address);
        await this.client.call('containerd.services.events.ttrpc.v1.Events', 'Forward', req);
        return;
      } catch (e) {
        this.client?.close();
        this.client = undefined;
        this.log.warn({ topic, attempt, err: messageOf(e) }, 'publish event');
        await new Promise((r) => setTimeout(r, attempt * 100));
      }
    }
    this.log.error({ topic }, 'event dropped after 5 attempts');
  }

  close(): void {
    this.client?.close();
  }
}
