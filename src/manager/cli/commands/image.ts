// Image commands over the Engine API (docker/cli image/*.go): pull, push, images/ls, tag, rmi/rm,
// history, save, load, import, image inspect, image prune.
import * as fs from 'node:fs';
import { ApiError } from '../../api/client';
import { familiarString, formatReference, parseNormalized, parseReference, type Reference } from '../../images/reference';
import type { DockCli } from '../cli';
import { exactArgs, maxArgs, minArgs, noArgs, type CommandSpec } from '../command';
import { encodeAuth } from '../config-file';
import { FilterValue, type Filters, encodeFilters } from '../opts/values';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, TABLE } from '../format/formatter';
import { HISTORY_HEADER, HistoryContext, historyFormat, IMAGE_HEADER, imageContexts, imageFormat, type HistoryItem, type ImageSummary } from '../format/lists';
import { displayJsonStream, sinkOf } from '../jsonmessage';
import { humanSize } from '../units';
import { CANCELLED, confirm, esc, joinErrors, validateDestination, writeAtomically, writeList } from './common';
import { inspectRefs } from './inspect';
import { pruneImages, withConfigPruneFilters } from './prune';
import { authFor } from './registry';

function tagOf(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

export function pullCommand(): CommandSpec<DockCli> {
  return {
    use: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
    short: 'Download an image from a registry',
    aliasPaths: ['image pull', 'pull'],
    categoryTop: 5,
    args: exactArgs(1),
    flags: (f) => {
      f.bool('all-tags', 'a', false, 'Download all tagged images in the repository');
      f.bool('quiet', 'q', false, 'Suppress verbose output');
      f.string('platform', '', process.env.DOCKER_DEFAULT_PLATFORM ?? '', 'Set platform if server is multi-platform capable');
      f.bool('disable-content-trust', '', true, 'Skip image verification');
    },
    run: async ({ cli, flags, args }) => {
      const all = flags.get<boolean>('all-tags');
      const quiet = flags.get<boolean>('quiet');
      let ref = parseNormalized(args[0]!);
      const nameOnly = ref.tag === undefined && ref.digest === undefined;
      if (all && !nameOnly) throw new Error("tag can't be used with --all-tags/-a");
      if (!all && nameOnly) {
        ref = parseReference(args[0]!);
        if (!quiet) cli.out.write(`Using default tag: ${ref.tag}\n`);
      }
      const client = await cli.client();
      const platform = flags.get<string>('platform');
      const res = await client.request('POST', '/images/create', {
        query: { fromImage: formatReference({ domain: ref.domain, path: ref.path }), ...(all ? {} : { tag: tagOf(ref) }), ...(platform ? { platform: platform.toLowerCase() } : {}) },
        headers: { 'X-Registry-Auth': encodeAuth(authFor(cli, ref.domain)) },
      });
      await displayJsonStream(res, quiet ? { write: () => true, isTerminal: false } : sinkOf(cli.out));
      cli.out.write(`${formatReference(ref)}\n`);
    },
  };
}

export function pushCommand(): CommandSpec<DockCli> {
  return {
    use: 'push [OPTIONS] NAME[:TAG]',
    short: 'Upload an image to a registry',
    aliasPaths: ['image push', 'push'],
    categoryTop: 6,
    args: exactArgs(1),
    flags: (f) => {
      f.bool('all-tags', 'a', false, 'Push all tags of an image to the repository');
      f.bool('quiet', 'q', false, 'Suppress verbose output');
      f.string(
        'platform',
        '',
        '',
        "Push a platform-specific manifest as a single-platform image to the registry.\nImage index won't be pushed, meaning that other manifests, including attestations won't be preserved.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
      ).hidden = true;
      f.bool('disable-content-trust', '', true, 'Skip image signing');
    },
    run: async ({ cli, flags, args }) => {
      const all = flags.get<boolean>('all-tags');
      const quiet = flags.get<boolean>('quiet');
      let ref = parseNormalized(args[0]!);
      const nameOnly = ref.tag === undefined && ref.digest === undefined;
      if (all && !nameOnly) throw new Error("tag can't be used with --all-tags/-a");
      if (!all && nameOnly) {
        ref = parseReference(args[0]!);
        if (!quiet) cli.out.write(`Using default tag: ${ref.tag}\n`);
      }
      const client = await cli.client();
      const platform = flags.get<string>('platform');
      const name = familiarString({ domain: ref.domain, path: ref.path });
      const res = await client.request('POST', `/images/${esc(name)}/push`, {
        query: { ...(ref.tag !== undefined ? { tag: ref.tag } : {}), ...(platform ? { platform: JSON.stringify(parsePlatform(platform)) } : {}) },
        headers: { 'X-Registry-Auth': encodeAuth(authFor(cli, ref.domain)) },
      });
      if (quiet) {
        await displayJsonStream(res, { write: () => true, isTerminal: false });
        cli.out.write(`${formatReference(ref)}\n`);
        return;
      }
      await displayJsonStream(res, sinkOf(cli.out));
    },
  };
}

function parsePlatform(p: string): { os: string; architecture?: string; variant?: string } {
  const [os, architecture, variant] = p.toLowerCase().split('/');
  return { os: os!, ...(architecture ? { architecture } : {}), ...(variant ? { variant } : {}) };
}

export function imagesCommand(use: 'images' | 'ls'): CommandSpec<DockCli> {
  return {
    use: `${use} [OPTIONS] [REPOSITORY[:TAG]]`,
    short: 'List images',
    aliasPaths: ['image ls', 'image list', 'images'],
    ...(use === 'ls' ? { aliases: ['list'] } : { categoryTop: 7 }),
    args: maxArgs(1),
    flags: (f) => {
      f.bool('quiet', 'q', false, 'Only show image IDs');
      f.bool('all', 'a', false, 'Show all images (default hides intermediate images)');
      f.bool('no-trunc', '', false, "Don't truncate output");
      f.bool('digests', '', false, 'Show digests');
      f.string('format', '', '', FORMAT_HELP);
      f.var(new FilterValue(), 'filter', 'f', 'Filter output based on conditions provided');
      // API 1.47 and experimental: hidden, as docker hides flags newer than the negotiated version.
      f.bool('tree', '', false, 'List multi-platform images as a tree (EXPERIMENTAL)').hidden = true;
    },
    run: async ({ cli, cmd, flags, args }) => {
      const filters = { ...flags.get<Filters>('filter') };
      if (args[0]) (filters.reference ??= {})[args[0]] = true;
      if (flags.get<boolean>('tree')) throw new Error('--tree is not supported by dock');
      const quiet = flags.get<boolean>('quiet');
      const client = await cli.client();
      const images = await client.json<ImageSummary[]>('GET', '/images/json', { query: { ...(flags.get<boolean>('all') ? { all: '1' } : {}), ...(Object.keys(filters).length ? { filters: encodeFilters(filters) } : {}) } });
      let format = flags.get<string>('format');
      if (!format) format = cli.configFile().imagesFormat && !quiet ? cli.configFile().imagesFormat! : TABLE;
      const digests = flags.get<boolean>('digests');
      const fmt = imageFormat(format, quiet, digests);
      writeList(cli, fmt, IMAGE_HEADER, imageContexts(images ?? [], !flags.get<boolean>('no-trunc'), digests, fmt));
      const ambiguous = ['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag'];
      if (args[0] && (images ?? []).length === 0 && cmd.name === 'images' && ambiguous.includes(args[0])) {
        cli.err.write(`\nNo images found matching "${args[0]}": did you mean "${cmd.root.name} image ${args[0]}"?\n`);
      }
    },
  };
}

export function tagCommand(): CommandSpec<DockCli> {
  return {
    use: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    aliasPaths: ['image tag', 'tag'],
    args: exactArgs(2),
    run: async ({ cli, args }) => {
      const client = await cli.client();
      const parse = (r: string) => {
        try {
          return parseNormalized(r);
        } catch (e) {
          throw new Error(`Error parsing reference: ${JSON.stringify(r)} is not a valid repository/tag: ${(e as Error).message}`);
        }
      };
      if (!/^(sha256:)?[a-f0-9]{64}$/.test(args[0]!)) parse(args[0]!);
      const target = parse(args[1]!);
      if (target.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
      const t = parseReference(args[1]!);
      (await client.request('POST', `/images/${esc(args[0]!)}/tag`, { query: { repo: formatReference({ domain: t.domain, path: t.path }), tag: t.tag } })).resume();
    },
  };
}

export function rmiCommand(use: 'rmi' | 'rm'): CommandSpec<DockCli> {
  return {
    use: `${use} [OPTIONS] IMAGE [IMAGE...]`,
    short: 'Remove one or more images',
    aliasPaths: ['image rm', 'image remove', 'rmi'],
    ...(use === 'rm' ? { aliases: ['rmi', 'remove'] } : {}),
    args: minArgs(1),
    flags: (f) => {
      f.bool('force', 'f', false, 'Force removal of the image');
      f.bool('no-prune', '', false, 'Do not delete untagged parents');
      const p = f.list('platform', '', 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")');
      (p.value as { type: string }).type = 'strings';
      p.hidden = true;
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const force = flags.get<boolean>('force');
      let fatal = false;
      const errs: unknown[] = [];
      for (const img of args) {
        try {
          const dels = await client.json<{ Untagged?: string; Deleted?: string }[]>('DELETE', `/images/${esc(img)}`, { query: { ...(force ? { force: '1' } : {}), noprune: flags.get<boolean>('no-prune') ? '1' : undefined } });
          for (const d of dels ?? []) cli.out.write(d.Deleted ? `Deleted: ${d.Deleted}\n` : `Untagged: ${d.Untagged}\n`);
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 404)) fatal = true;
          errs.push(e);
        }
      }
      const err = joinErrors(errs);
      if (err) {
        if (!force || fatal) throw err;
        cli.err.write(`${err.message}\n`);
      }
    },
  };
}

export function historyCommand(): CommandSpec<DockCli> {
  return {
    use: 'history [OPTIONS] IMAGE',
    short: 'Show the history of an image',
    aliasPaths: ['image history', 'history'],
    args: exactArgs(1),
    flags: (f) => {
      f.bool('human', 'H', true, 'Print sizes and dates in human readable format');
      f.bool('quiet', 'q', false, 'Only show image IDs');
      f.bool('no-trunc', '', false, "Don't truncate output");
      f.string('format', '', '', FORMAT_HELP);
      f.string('platform', '', '', 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")');
      f.lookup('platform')!.hidden = true;
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const platform = flags.get<string>('platform');
      const items = await client.json<HistoryItem[]>('GET', `/images/${esc(args[0]!)}/history`, { query: platform ? { platform: JSON.stringify(parsePlatform(platform)) } : {} });
      const human = flags.get<boolean>('human');
      const fmt = historyFormat(flags.get<string>('format') || TABLE, flags.get<boolean>('quiet'), human);
      const trunc = !flags.get<boolean>('no-trunc');
      writeList(cli, fmt, HISTORY_HEADER, (items ?? []).map((h) => new HistoryContext(h, trunc, human)));
    },
  };
}

export function saveCommand(): CommandSpec<DockCli> {
  return {
    use: 'save [OPTIONS] IMAGE [IMAGE...]',
    short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    aliasPaths: ['image save', 'save'],
    args: minArgs(1),
    flags: (f) => {
      f.string('output', 'o', '', 'Write to a file, instead of STDOUT');
      f.string('platform', '', '', 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")');
      f.lookup('platform')!.hidden = true;
    },
    run: async ({ cli, flags, args }) => {
      const output = flags.get<string>('output');
      if (!output && cli.out.isTerminal) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const client = await cli.client();
      if (output) validateDestination(output, 'failed to save image');
      const res = await client.request('GET', '/images/get', { query: { names: args } });
      if (!output) {
        for await (const c of res) cli.out.write(c as Buffer);
        return;
      }
      await writeAtomically(output, res, 'failed to save image');
    },
  };
}

export function loadCommand(): CommandSpec<DockCli> {
  return {
    use: 'load [OPTIONS]',
    short: 'Load an image from a tar archive or STDIN',
    aliasPaths: ['image load', 'load'],
    args: noArgs,
    flags: (f) => {
      f.string('input', 'i', '', 'Read from tar archive file, instead of STDIN');
      f.bool('quiet', 'q', false, 'Suppress the load output');
      f.string('platform', '', '', 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")');
      f.lookup('platform')!.hidden = true;
    },
    run: async ({ cli, flags }) => {
      const input = flags.get<string>('input');
      let body: NodeJS.ReadableStream;
      if (input === '') {
        if (cli.in.isTerminal) throw new Error('requested load from stdin, but stdin is empty');
        body = cli.in.stream;
      } else {
        try {
          fs.accessSync(input, fs.constants.R_OK);
        } catch (e) {
          throw new Error(`open ${input}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
        }
        body = fs.createReadStream(input);
      }
      const quiet = flags.get<boolean>('quiet') || !cli.out.isTerminal;
      const client = await cli.client();
      const res = await client.request('POST', '/images/load', { query: quiet ? { quiet: '1' } : {}, body, contentType: 'application/x-tar' });
      if (res.headers['content-type'] === 'application/json') await displayJsonStream(res, sinkOf(cli.out));
      else for await (const c of res) cli.out.write(c as Buffer);
    },
  };
}

export function importCommand(): CommandSpec<DockCli> {
  return {
    use: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    short: 'Import the contents from a tarball to create a filesystem image',
    aliasPaths: ['image import', 'import'],
    args: minArgs(1),
    flags: (f) => {
      f.list('change', 'c', 'Apply Dockerfile instruction to the created image');
      f.string('message', 'm', '', 'Set commit message for imported image');
      f.string('platform', '', process.env.DOCKER_DEFAULT_PLATFORM ?? '', 'Set platform if server is multi-platform capable');
    },
    run: async ({ cli, flags, args }) => {
      const src = args[0]!;
      const repo = args[1];
      let body: NodeJS.ReadableStream | undefined;
      let fromSrc = '-';
      if (src === '-') body = cli.in.stream;
      else if (/^https?:\/\//.test(src)) fromSrc = src;
      else {
        try {
          fs.accessSync(src, fs.constants.R_OK);
        } catch (e) {
          throw new Error(`open ${src}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
        }
        body = fs.createReadStream(src);
      }
      if (repo) parseNormalized(repo);
      const client = await cli.client();
      const res = await client.request('POST', '/images/create', {
        query: {
          fromSrc,
          ...(repo ? { repo } : {}),
          ...(flags.get<string>('message') ? { message: flags.get<string>('message') } : {}),
          ...(flags.get<string>('platform') ? { platform: flags.get<string>('platform') } : {}),
          changes: flags.get<string[]>('change'),
        },
        ...(body ? { body } : {}),
      });
      await displayJsonStream(res, sinkOf(cli.out));
    },
  };
}

export function imageInspectCommand(): CommandSpec<DockCli> {
  return {
    use: 'inspect [OPTIONS] IMAGE [IMAGE...]',
    short: 'Display detailed information on one or more images',
    args: minArgs(1),
    flags: (f) => {
      f.string('format', 'f', '', INSPECT_FORMAT_HELP);
      f.string('platform', '', '', "Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)");
      f.lookup('platform')!.hidden = true;
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      await inspectRefs(cli, args, flags.get<string>('format'), async (ref) => client.json('GET', `/images/${esc(ref)}/json`));
    },
  };
}

const IMAGE_PRUNE_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';
const IMAGE_PRUNE_ALL_WARNING = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';

export function imagePruneCommand(): CommandSpec<DockCli> {
  return {
    use: 'prune [OPTIONS]',
    short: 'Remove unused images',
    args: noArgs,
    flags: (f) => {
      f.bool('all', 'a', false, 'Remove all unused images, not just dangling ones');
      f.bool('force', 'f', false, 'Do not prompt for confirmation');
      f.var(new FilterValue(), 'filter', '', 'Provide filter values (e.g. "until=<timestamp>")');
    },
    run: async ({ cli, flags }) => {
      const all = flags.get<boolean>('all');
      if (!flags.get<boolean>('force') && !(await confirm(cli, all ? IMAGE_PRUNE_ALL_WARNING : IMAGE_PRUNE_WARNING))) throw CANCELLED;
      const client = await cli.client();
      const r = await pruneImages(client, withConfigPruneFilters(cli, flags.get<Filters>('filter')), all);
      if (r.output) cli.out.write(`${r.output}\n`);
      cli.out.write(`Total reclaimed space: ${humanSize(r.space)}\n`);
    },
  };
}
