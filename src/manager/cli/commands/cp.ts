// `cp` (docker/cli container/cp.go): HEAD/GET/PUT /containers/{id}/archive with the path-stat
// header; host → container sends a rebased tar of the source (or stdin's tar for "-"); container →
// host extracts (or copies the tar to stdout for "-"); progress on a terminal stderr.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { ApiError } from '../../api/client';
import {
  copyInfoDestinationPath,
  copyInfoSourcePath,
  decodePathStat,
  getRebaseName,
  isDirMode,
  isSymlinkMode,
  MODE_DEVICE,
  MODE_IRREGULAR,
  prepareArchiveCopy,
  rebaseArchiveEntries,
  resolveLocalPath,
  splitPathDirEntry,
  tarResource,
  untar,
  type CopyInfo,
  type PathStat,
} from '../archive';
import type { DockCli } from '../cli';
import { exactArgs, type CommandSpec } from '../command';
import { humanSizeWithPrecision } from '../units';
import { esc } from './common';

function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.slice(0, i).startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

function validateFileMode(mode: number): void {
  if (Math.floor(mode / MODE_DEVICE) % 2 === 1) throw new Error('got a device');
  if (Math.floor(mode / MODE_IRREGULAR) % 2 === 1) throw new Error('got an irregular file');
}

/** command.ValidateOutputPath. */
function validateOutputPath(p: string): void {
  const dir = path.dirname(path.normalize(p));
  if (dir !== '' && dir !== '.' && !fs.existsSync(dir)) throw new Error(`invalid output path: directory "${dir}" does not exist`);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(p);
  } catch {
    return;
  }
  if (st.isDirectory() || st.isFile()) return;
  if (st.isBlockDevice() || st.isCharacterDevice()) throw new Error(`invalid output path: "${p}" must be a directory or a regular file: got a device`);
}

/** Counts bytes and draws docker's "Copying ... - 1.2MB" line on a terminal stderr. */
function progress(cli: DockCli, header: string, quiet: boolean): { count: (n: number) => void; done: () => number } {
  let total = 0;
  let last = -1;
  const tty = !quiet && cli.err.isTerminal;
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    cli.err.write('\x1b7Preparing to copy...');
    cli.err.write('\x1b[?25l\x1b8\x1b[2K' + header + humanSizeWithPrecision(0, 3));
    timer = setInterval(() => {
      if (total === last) return;
      last = total;
      cli.err.write(`\x1b[${header.length + 1}G\x1b[0K${humanSizeWithPrecision(total, 3)}`);
    }, 75);
  }
  return {
    count: (n) => (total += n),
    done: () => {
      if (timer) clearInterval(timer);
      if (tty) cli.err.write('\x1b[?25h\x1b8\x1b[2K');
      return total;
    },
  };
}

/** Counts the bytes passing through (a Transform: a 'data' listener would start the flow early). */
function counted(src: Readable, count: (n: number) => void): Readable {
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      count(chunk.length);
      cb(null, chunk);
    },
  });
  src.on('error', (e) => t.destroy(e));
  return src.pipe(t);
}

async function statPath(cli: DockCli, container: string, p: string): Promise<PathStat | undefined> {
  const client = await cli.client();
  try {
    const res = await client.request('HEAD', `/containers/${esc(container)}/archive`, { query: { path: p } });
    res.resume();
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  } catch (e) {
    if (e instanceof ApiError) return undefined;
    throw e;
  }
}

async function copyFromContainer(cli: DockCli, container: string, src0: string, dst0: string, followLink: boolean, quiet: boolean): Promise<void> {
  let dst = dst0;
  let src = src0;
  if (dst !== '-') dst = resolveLocalPath(dst);
  validateOutputPath(dst);
  const client = await cli.client();
  let rebaseName = '';
  if (followLink) {
    const st = await statPath(cli, container, src);
    if (st && isSymlinkMode(st.mode)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = path.join(splitPathDirEntry(src)[0], target);
      [src, rebaseName] = getRebaseName(src, target);
    }
  }
  const res = await client.request('GET', `/containers/${esc(container)}/archive`, { query: { path: src } });
  if (dst === '-') {
    for await (const c of res) cli.out.write(c as Buffer);
    return;
  }
  const stat = decodePathStat(res.headers['x-docker-container-path-stat']);
  const srcInfo: CopyInfo = { path: src, exists: true, isDir: isDirMode(stat.mode), rebaseName };
  const prog = progress(cli, 'Copying from container - ', quiet);
  let content: Readable = counted(res, prog.count);
  if (rebaseName) content = rebaseArchiveEntries(content, splitPathDirEntry(src)[1], rebaseName);
  let err: unknown;
  try {
    const dstInfo = copyInfoDestinationPath(dst);
    const [dstDir, archive] = prepareArchiveCopy(content, srcInfo, dstInfo);
    await untar(archive, dstDir);
  } catch (e) {
    err = e;
    res.destroy();
  }
  const n = prog.done();
  if (!quiet) cli.err.write(`Successfully copied ${humanSizeWithPrecision(n, 3)} to ${dst}\n`);
  if (err) throw err;
}

async function copyToContainer(cli: DockCli, container: string, src0: string, dst: string, followLink: boolean, copyUIDGID: boolean, quiet: boolean): Promise<void> {
  let src = src0;
  if (src !== '-') src = resolveLocalPath(src);
  const client = await cli.client();
  const dstInfo: CopyInfo = { path: dst, exists: false, isDir: false, rebaseName: '' };
  let st = await statPath(cli, container, dst);
  if (st && isSymlinkMode(st.mode)) {
    let target = st.linkTarget;
    if (!target.startsWith('/')) target = path.join(splitPathDirEntry(dst)[0], target);
    dstInfo.path = target;
    st = await statPath(cli, container, target);
  }
  if (st) {
    try {
      validateFileMode(st.mode);
    } catch (e) {
      throw new Error(`destination "${container}:${dst}" must be a directory or a regular file: ${(e as Error).message}`);
    }
    dstInfo.exists = true;
    dstInfo.isDir = isDirMode(st.mode);
  }
  let content: Readable;
  let dstDir: string;
  const prog = progress(cli, 'Copying to container - ', quiet || src === '-');
  if (src === '-') {
    dstDir = dstInfo.path;
    if (!dstInfo.isDir) throw new Error(`destination "${container}:${dst}" must be a directory`);
    content = cli.in.stream as Readable;
  } else {
    let srcInfo: CopyInfo;
    try {
      srcInfo = copyInfoSourcePath(src, followLink);
    } catch (e) {
      const ne = e as NodeJS.ErrnoException;
      throw new Error(`lstat ${ne.path ?? src}: ${ne.code === 'ENOENT' ? 'no such file or directory' : ne.message}`);
    }
    const tar = tarResource(srcInfo.path, srcInfo.rebaseName);
    [dstDir, content] = prepareArchiveCopy(tar, srcInfo, dstInfo);
    content = counted(content, prog.count);
  }
  let err: unknown;
  try {
    const res = await client.request('PUT', `/containers/${esc(container)}/archive`, {
      query: { path: dstDir, noOverwriteDirNonDir: 'true', ...(copyUIDGID ? { copyUIDGID: 'true' } : {}) },
      body: content,
      contentType: 'text/plain',
    });
    res.resume();
  } catch (e) {
    err = e;
  }
  const n = prog.done();
  if (!quiet && src !== '-') cli.err.write(`Successfully copied ${humanSizeWithPrecision(n, 3)} to ${container}:${dstInfo.path}\n`);
  if (err) throw err;
}

export function cpCommand(): CommandSpec<DockCli> {
  return {
    use: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdock cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    short: 'Copy files/folders between a container and the local filesystem',
    long: "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
    aliasPaths: ['container cp', 'cp'],
    args: exactArgs(2),
    flags: (f) => {
      f.bool('follow-link', 'L', false, 'Always follow symbol link in SRC_PATH');
      f.bool('archive', 'a', false, 'Archive mode (copy all uid/gid information)');
      f.bool('quiet', 'q', false, 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached');
    },
    run: async ({ cli, flags, args }) => {
      if (args[0] === '') throw new Error('source can not be empty');
      if (args[1] === '') throw new Error('destination can not be empty');
      const quiet = flags.changed('quiet') ? flags.get<boolean>('quiet') : !cli.out.isTerminal;
      const [srcC, srcP] = splitCpArg(args[0]!);
      const [dstC, dstP] = splitCpArg(args[1]!);
      const follow = flags.get<boolean>('follow-link');
      if (srcC && dstC) throw new Error('copying between containers is not supported');
      if (srcC) return void (await copyFromContainer(cli, srcC, srcP, dstP, follow, quiet));
      if (dstC) return void (await copyToContainer(cli, dstC, srcP, dstP, follow, flags.get<boolean>('archive'), quiet));
      throw new Error('must specify at least one container source');
    },
  };
}
