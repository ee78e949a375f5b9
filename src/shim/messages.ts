// Protobuf messages of the shim, loaded with protobufjs from our own .proto files in proto/. Owns
// the lookup of the proto directory and encode/decode helpers; knows nothing of sockets or tasks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

const FILES = ['ttrpc.proto', 'status.proto', 'task.proto', 'events.proto', 'runc-options.proto', 'cgroups-v1.proto', 'cgroups-v2.proto'];

/** Finds src/shim/proto from the source tree or from the bundle in bin/ ($KEEL_SHIM_PROTO overrides). */
function protoDir(): string {
  const override = process.env.KEEL_SHIM_PROTO;
  if (override) return override;
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    for (const c of [path.join(dir, 'proto'), path.join(dir, 'src', 'shim', 'proto'), path.join(dir, 'lib', 'keel', 'proto')]) {
      if (fs.existsSync(path.join(c, 'task.proto'))) return c;
    }
    dir = path.dirname(dir);
  }
  throw new Error(`shim proto files not found above ${__dirname}`);
}

let root: protobuf.Root | undefined;
const types = new Map<string, protobuf.Type>();

function loadRoot(): protobuf.Root {
  if (root) return root;
  const dir = protoDir();
  const r = new protobuf.Root();
  // Our imports name sibling files; google/protobuf/* come from protobufjs's bundled common types.
  r.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(dir, path.basename(target)));
  r.loadSync(FILES.map((f) => path.join(dir, f)));
  r.resolveAll();
  root = r;
  return r;
}

/** The protobufjs Type of a fully qualified message name, e.g. 'containerd.task.v2.CreateTaskRequest'. */
export function messageType(name: string): protobuf.Type {
  let t = types.get(name);
  if (!t) {
    t = loadRoot().lookupType(name);
    types.set(name, t);
  }
  return t;
}

/**
 * Builds the code protobufjs generates per message type (encode, decode, fromObject, toObject) by
 * a round trip of an empty message, for the types of a container's life (ttrpc, Task, events; not
 * the cgroup Metrics of Stats, the costliest to build). protobufjs generates it on a type's first
 * use; a spare daemon does it while it waits, so the first calls of a pod it adopts do not.
 */
export function warmUp(): void {
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      if (o.fullName.startsWith('.io.containerd.cgroups')) continue;
      if (o instanceof protobuf.Type) {
        try {
          o.toObject(o.decode(o.encode(o.fromObject({})).finish()), { longs: Number, defaults: true, arrays: true, objects: true });
        } catch {
          /* a type that needs fields set: built on first use instead */
        }
      }
      if (o instanceof protobuf.Namespace) walk(o);
    }
  };
  walk(loadRoot());
}

/** Encodes a plain object (camelCase fields) as message `name`. */
export function encode(name: string, value: object): Buffer {
  const t = messageType(name);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}

/** Decodes message `name` into a plain object: camelCase fields, defaults filled in, 64-bit ints as numbers. */
export function decode<T = Record<string, unknown>>(name: string, data: Uint8Array): T {
  const t = messageType(name);
  return t.toObject(t.decode(data), { longs: Number, defaults: true, arrays: true, objects: true }) as T;
}

/** A google.protobuf.Any of message `name` (containerd 1.6 type URLs are the bare message names). */
export function toAny(name: string, value: object): AnyMsg {
  return { type_url: name, value: encode(name, value) };
}

/** google.protobuf.Timestamp of a Date. */
export function timestamp(d: Date): { seconds: number; nanos: number } {
  const ms = d.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/** google.protobuf.Any as protobufjs spells it (its bundled any.proto keeps type_url). */
export type AnyMsg = { type_url: string; value: Uint8Array };
