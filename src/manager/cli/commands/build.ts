// dock build: docker's classic `docker build` (docker/cli image/build.go with the legacy builder):
// the context (a directory sent as a tar with .dockerignore applied, `-` for a tar or a Dockerfile on
// stdin, or a tar file) posted to POST /build with the options in the query and every stored
// credential in X-Registry-Config; the JSON-message stream printed as it comes. A failed step ends
// with its message on stderr and the RUN's exit code (1 otherwise).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type * as ContextTar from '../../build/context-tar';
import type * as Decompress from '../../build/decompress';
import type { DockCli } from '../cli';
import { exactArgs, StatusError, type CommandSpec } from '../command';
import { JSONError, displayJsonStream, sinkOf, type Sink } from '../jsonmessage';
import { humanSize, ramInBytes } from '../units';

// The context packer (crypto, zlib, the .dockerignore matcher) is loaded when a build runs, not by
// every CLI start.
/* eslint-disable @typescript-eslint/no-require-imports */
const makeContextTar: typeof ContextTar.makeContextTar = (...a) => (require('../../build/context-tar') as typeof ContextTar).makeContextTar(...a);
const detectCompression: typeof Decompress.detectCompression = (...a) => (require('../../build/decompress') as typeof Decompress).detectCompression(...a);
const isTarHeader: typeof Decompress.isTarHeader = (...a) => (require('../../build/decompress') as typeof Decompress).isTarHeader(...a);
/* eslint-enable @typescript-eslint/no-require-imports */

function keyValues(list: string[], what: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i === 0) throw new Error(`invalid ${what}: ${kv}`);
    // --build-arg NAME without a value takes it from the environment (or leaves it unset).
    if (i < 0) out[kv] = what === 'label' ? '' : (process.env[kv] ?? null);
    else out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** One buffer as an async source. */
async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** Counts what goes by, for "Sending build context to Docker daemon". */
async function* counted(src: AsyncIterable<Buffer>, n: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const c of src) {
    n.bytes += c.length;
    yield c;
  }
}

type Context = { body: AsyncIterable<Buffer>; dockerfile: string };

async function prepareContext(cli: DockCli, arg: string, file: string): Promise<Context> {
  if (arg === '-') {
    if (file === '-') throw new Error('invalid argument: can\'t use stdin for both build context and dockerfile');
    const data = await readAll(cli.in.stream);
    // A tar (possibly compressed) is the context; anything else is a Dockerfile with an empty context.
    if (detectCompression(data) !== 'none' || (data.length >= 512 && isTarHeader(data.subarray(0, 512)))) return { body: once(data), dockerfile: file || 'Dockerfile' };
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'dock-build-'));
    try {
      const t = await makeContextTar(dir, { dockerfileContent: data });
      const all = await readAll(asStream(t.stream));
      return { body: once(all), dockerfile: t.dockerfile };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(arg);
  } catch {
    throw new Error(`unable to prepare context: path ${JSON.stringify(arg)} not found`);
  }
  if (st.isFile()) return { body: fs.createReadStream(arg) as AsyncIterable<Buffer>, dockerfile: file || 'Dockerfile' };
  if (!st.isDirectory()) throw new Error(`unable to prepare context: context must be a directory: ${arg}`);
  let dockerfileContent: Buffer | undefined;
  let dockerfilePath: string | undefined;
  if (file === '-') dockerfileContent = await readAll(cli.in.stream);
  else if (file !== '') {
    dockerfilePath = path.resolve(file);
    if (!fs.existsSync(dockerfilePath)) throw new Error(`unable to prepare context: the Dockerfile (${file}) does not exist`);
  } else if (!fs.existsSync(path.join(arg, 'Dockerfile')) && !fs.existsSync(path.join(arg, 'dockerfile'))) {
    throw new Error(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${path.resolve(arg, 'Dockerfile')}: no such file or directory`);
  }
  const t = await makeContextTar(arg, { ...(dockerfilePath ? { dockerfilePath } : {}), ...(dockerfileContent ? { dockerfileContent } : {}) });
  return { body: t.stream, dockerfile: t.dockerfile };
}

function asStream(src: AsyncIterable<Buffer>): NodeJS.ReadableStream {
  return Readable.from(src);
}

export function buildCommand(): CommandSpec<DockCli> {
  return {
    use: 'build [OPTIONS] PATH | URL | -',
    short: 'Build an image from a Dockerfile',
    aliasPaths: ['image build', 'build', 'builder build'],
    categoryTop: 4,
    args: exactArgs(1),
    flags: (f) => {
      f.list('add-host', '', 'Add a custom host-to-IP mapping ("host:ip")');
      f.list('build-arg', '', 'Set build-time variables');
      f.list('cache-from', '', 'Images to consider as cache sources');
      f.string('cgroup-parent', '', '', 'Set the parent cgroup for the "RUN" instructions during build');
      f.int('cpu-period', '', 0, 'Limit the CPU CFS (Completely Fair Scheduler) period');
      f.int('cpu-quota', '', 0, 'Limit the CPU CFS (Completely Fair Scheduler) quota');
      f.int('cpu-shares', 'c', 0, 'CPU shares (relative weight)');
      f.string('cpuset-cpus', '', '', 'CPUs in which to allow execution (0-3, 0,1)');
      f.string('cpuset-mems', '', '', 'MEMs in which to allow execution (0-3, 0,1)');
      f.string('file', 'f', '', "Name of the Dockerfile (Default is 'PATH/Dockerfile')");
      f.bool('force-rm', '', false, 'Always remove intermediate containers');
      f.string('iidfile', '', '', 'Write the image ID to the file');
      f.list('label', '', 'Set metadata for an image');
      f.string('memory', 'm', '', 'Memory limit');
      f.string('memory-swap', '', '', "Swap limit equal to memory plus swap: -1 to enable unlimited swap");
      f.string('network', '', 'default', 'Set the networking mode for the RUN instructions during build');
      f.bool('no-cache', '', false, 'Do not use cache when building the image');
      f.string('platform', '', process.env.DOCKER_DEFAULT_PLATFORM ?? '', 'Set platform if server is multi-platform capable');
      f.bool('pull', '', false, 'Always attempt to pull a newer version of the image');
      f.bool('quiet', 'q', false, 'Suppress the build output and print image ID on success');
      f.bool('rm', '', true, 'Remove intermediate containers after a successful build');
      f.string('shm-size', '', '', 'Size of "/dev/shm"');
      f.list('tag', 't', 'Name and optionally a tag in the "name:tag" format');
      f.string('target', '', '', 'Set the target build stage to build.');
      f.bool('explain-cache', '', false, 'Say for each step that missed the cache what changed');
    },
    run: async ({ cli, flags, args }) => {
      const quiet = flags.get<boolean>('quiet');
      const ctx = await prepareContext(cli, args[0]!, flags.get<string>('file'));
      const sent = { bytes: 0 };
      const mem = flags.get<string>('memory');
      const swap = flags.get<string>('memory-swap');
      const shm = flags.get<string>('shm-size');
      const network = flags.get<string>('network');
      const query: Record<string, string | string[]> = {
        t: flags.get<string[]>('tag'),
        dockerfile: ctx.dockerfile,
        version: '1',
        buildargs: JSON.stringify(keyValues(flags.get<string[]>('build-arg'), 'build-arg')),
        labels: JSON.stringify(keyValues(flags.get<string[]>('label'), 'label')),
        cachefrom: JSON.stringify(flags.get<string[]>('cache-from')),
        extrahosts: flags.get<string[]>('add-host'),
        rm: flags.get<boolean>('rm') ? '1' : '0',
        forcerm: flags.get<boolean>('force-rm') ? '1' : '0',
        nocache: flags.get<boolean>('no-cache') ? '1' : '0',
        pull: flags.get<boolean>('pull') ? '1' : '0',
        q: quiet ? '1' : '0',
        networkmode: network === 'default' ? '' : network,
        target: flags.get<string>('target'),
        platform: flags.get<string>('platform'),
        cgroupparent: flags.get<string>('cgroup-parent'),
        cpusetcpus: flags.get<string>('cpuset-cpus'),
        cpusetmems: flags.get<string>('cpuset-mems'),
      };
      for (const [k, flag] of [['cpuperiod', 'cpu-period'], ['cpuquota', 'cpu-quota'], ['cpushares', 'cpu-shares']] as const) if (flags.get<number>(flag)) query[k] = String(flags.get<number>(flag));
      if (mem) query.memory = String(ramInBytes(mem));
      if (swap) query.memswap = swap === '-1' ? '-1' : String(ramInBytes(swap));
      if (shm) query.shmsize = String(ramInBytes(shm));
      if (flags.get<boolean>('explain-cache')) query.explaincache = '1';
      for (const k of Object.keys(query)) if (query[k] === '' || (Array.isArray(query[k]) && query[k].length === 0)) delete query[k];
      const auths = cli.configFile().allAuths();
      const client = await cli.client();
      const body = asStream(counted(ctx.body, sent));
      const res = await client.request('POST', '/build', {
        query,
        body,
        contentType: 'application/x-tar',
        headers: { 'X-Registry-Config': Buffer.from(JSON.stringify(auths)).toString('base64url') },
      });
      if (!quiet) cli.out.write(`Sending build context to Docker daemon  ${humanSize(sent.bytes)}\n\n`);
      // -q: the output is kept and shown on stderr only when the build fails.
      const held: string[] = [];
      const sink: Sink = quiet ? { write: (s) => held.push(s), isTerminal: false } : sinkOf(cli.out);
      let imageId = '';
      try {
        await displayJsonStream(res, sink, (jm) => {
          const id = (jm.aux as { ID?: string } | undefined)?.ID;
          if (id) imageId = id;
        });
      } catch (e) {
        if (quiet) cli.err.write(held.join(''));
        if (e instanceof JSONError) throw new StatusError(e.message, e.code || 1);
        throw e;
      }
      if (quiet) cli.out.write(held.join(''));
      const iid = flags.get<string>('iidfile');
      if (iid && imageId) fs.writeFileSync(iid, imageId);
    },
  };
}
