// The engine's event log: what happened to containers, images, volumes and networks, as /events
// serves it (Docker's shape, names and filters). Keeps the last events in memory for since/until
// queries and hands new ones to live subscribers. No I/O.

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'builder';

export type EngineEvent = {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Legacy fields (container and image events). */
  status?: string;
  id?: string;
  from?: string;
};

type Subscriber = (e: EngineEvent) => void;

/** Docker's events filters (type, event, container, image, volume, network, label, daemon, scope). */
export type EventFilters = Map<string, string[]>;

function nowNano(): number {
  // Milliseconds are all Date gives; hrtime's sub-millisecond part keeps events of one ms ordered.
  const ms = Date.now();
  const sub = Number(process.hrtime.bigint() % 1_000_000n);
  return ms * 1_000_000 + sub;
}

export function eventMatches(e: EngineEvent, f: EventFilters): boolean {
  const has = (k: string, pred: (v: string) => boolean) => {
    const vals = f.get(k);
    return !vals || vals.length === 0 || vals.some(pred);
  };
  const name = e.Actor.Attributes.name ?? '';
  if (!has('type', (v) => v === e.Type)) return false;
  if (!has('event', (v) => v === e.Action || e.Action.startsWith(`${v}:`))) return false;
  if (!has('scope', (v) => v === 'local')) return false;
  if (f.has('container') && !(e.Type === 'container' && has('container', (v) => e.Actor.ID.startsWith(v) || name === v.replace(/^\//, '')))) return false;
  if (f.has('image') && !has('image', (v) => e.Actor.Attributes.image === v || (e.Type === 'image' && (e.Actor.ID === v || name === v)) || e.from === v)) return false;
  if (f.has('volume') && !(e.Type === 'volume' && has('volume', (v) => e.Actor.ID === v))) return false;
  if (f.has('network') && !(e.Type === 'network' && has('network', (v) => e.Actor.ID.startsWith(v) || name === v))) return false;
  if (!has('label', (v) => {
    const eq = v.indexOf('=');
    const k = eq < 0 ? v : v.slice(0, eq);
    if (!(k in e.Actor.Attributes)) return false;
    return eq < 0 || e.Actor.Attributes[k] === v.slice(eq + 1);
  })) return false;
  return true;
}

export class EventBus {
  private readonly history: EngineEvent[] = [];
  private readonly subs = new Set<Subscriber>();

  constructor(private readonly keep = 1024) {}

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const timeNano = nowNano();
    const e: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Math.floor(timeNano / 1e9), timeNano };
    if (type === 'container' || type === 'image') {
      e.status = action;
      e.id = id;
      if (attributes.image) e.from = attributes.image;
    }
    this.history.push(e);
    if (this.history.length > this.keep) this.history.splice(0, this.history.length - this.keep);
    for (const s of this.subs) s(e);
    return e;
  }

  /** Past events with since <= time <= until (nanoseconds). */
  past(sinceNano: number, untilNano: number, f: EventFilters): EngineEvent[] {
    return this.history.filter((e) => e.timeNano >= sinceNano && e.timeNano <= untilNano && eventMatches(e, f));
  }

  subscribe(fn: Subscriber): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
}

/** Parses Docker's since/until values: unix seconds (with fraction), RFC 3339, or a duration back from now (10m). */
export function parseTimeArg(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) {
    const [s, frac = ''] = v.split('.');
    return Number(s) * 1e9 + Number((frac + '000000000').slice(0, 9));
  }
  const d = /^(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)$/.exec(v);
  if (d) {
    const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
    return (now - Number(d[1]) * mult[d[2]!]!) * 1e6;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`invalid time value ${JSON.stringify(v)}`);
  return t * 1e6;
}
