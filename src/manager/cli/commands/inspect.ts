// `inspect` output for every object type (docker/cli inspect/inspector.go): the engine's raw JSON
// re-indented as Go's json.Indent does (key order and escaping kept), compact with --format json,
// or a template per object; plus the generic `inspect` that tries containers, images, networks,
// volumes and plugins in turn ("Error: No such object: x").
import { ApiError, readAll, type EngineClient } from '../../api/client';
import type { DockCli } from '../cli';
import { minArgs, StatusError, type CommandSpec } from '../command';
import { errorText } from '../execute';
import { INSPECT_FORMAT_HELP } from '../format/formatter';
import { Template } from '../template/exec';
import { goJson, markGoMaps } from '../template/values';
import { esc } from './common';

export type Raw = { value: unknown; raw: string };

/** GET a JSON object and keep its exact text. */
export async function getRaw(client: EngineClient, p: string, query?: Record<string, string>): Promise<Raw> {
  const res = await client.request('GET', p, query ? { query } : {});
  const raw = (await readAll(res)).toString();
  return { value: JSON.parse(raw), raw };
}

/**
 * `volume inspect` hands docker's inspector the decoded volume.Volume, not the engine's bytes: its
 * JSON is encoding/json's (fields in the struct's order, omitempty ones left out when empty, map keys
 * sorted, <, > and & escaped), whatever order or extra fields the engine sent.
 */
export function typedVolume(v: Record<string, unknown>): Raw {
  const o: Record<string, unknown> = {};
  const empty = (x: unknown) => x === undefined || x === null || x === '' || (typeof x === 'object' && Object.keys(x as object).length === 0);
  if (!empty(v.ClusterVolume)) o.ClusterVolume = v.ClusterVolume;
  if (!empty(v.CreatedAt)) o.CreatedAt = v.CreatedAt;
  o.Driver = v.Driver ?? '';
  o.Labels = v.Labels ?? null;
  o.Mountpoint = v.Mountpoint ?? '';
  o.Name = v.Name ?? '';
  o.Options = v.Options ?? null;
  o.Scope = v.Scope ?? '';
  if (!empty(v.Status)) o.Status = v.Status;
  if (v.UsageData) o.UsageData = v.UsageData;
  markGoMaps(o);
  return { value: o, raw: goJson(o, true) };
}

/** Go's json.Indent(dst, src, "", "    ") on raw JSON text. */
export function indentJson(src: string, indent = '    '): string {
  let out = '';
  let depth = 0;
  let inStr = false;
  let needIndent = false;
  const nl = () => '\n' + indent.repeat(depth);
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (inStr) {
      out += c;
      if (c === '\\') out += src[++i] ?? '';
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (needIndent && c !== ']' && c !== '}') {
      needIndent = false;
      depth++;
      out += nl();
    }
    if (c === '"') {
      inStr = true;
      out += c;
    } else if (c === '{' || c === '[') {
      out += c;
      needIndent = true;
    } else if (c === '}' || c === ']') {
      if (needIndent) needIndent = false;
      else {
        depth--;
        out += nl();
      }
      out += c;
    } else if (c === ',') out += ',' + nl();
    else if (c === ':') out += ': ';
    else out += c;
  }
  return out;
}

/** json.Compact. */
export function compactJson(src: string): string {
  return indentJson(src, '').replace(/\n/g, '').replace(/": /g, '":');
}

/**
 * inspect.Inspect: each ref through get; output indented JSON array, compact JSON, or the template
 * per element. Failures are collected (exit 1); a bad template exits 64.
 */
export async function inspectRefs(cli: DockCli, refs: string[], format: string, get: (ref: string) => Promise<unknown | Raw>): Promise<void> {
  let tmpl: Template | undefined;
  if (format && format !== 'json') {
    try {
      tmpl = new Template(format);
    } catch (e) {
      throw new StatusError(`template parsing error: ${(e as Error).message}`, 64);
    }
  }
  const raws: string[] = [];
  let buffer = '';
  const errs: string[] = [];
  for (const ref of refs) {
    let el: unknown;
    try {
      el = await get(ref);
    } catch (e) {
      errs.push(errorText(e));
      continue;
    }
    const r: Raw = isRaw(el) ? el : { value: el, raw: JSON.stringify(el) };
    if (tmpl) {
      try {
        // docker runs the template on the typed object, then on the raw JSON with missingkey=error;
        // on raw data the strict pass is the one that decides.
        buffer += tmpl.execute(markGoMaps(r.value), { missingKeyError: true, printMode: 'typed' }) + '\n';
      } catch (e) {
        errs.push(`template parsing error: ${(e as Error).message}`);
      }
    } else raws.push(r.raw.trim());
  }
  if (tmpl) cli.out.write(buffer.length ? buffer : '\n');
  else if (raws.length === 0) cli.out.write('[]\n');
  else {
    const arr = `[${raws.join(',')}]`;
    cli.out.write((format === 'json' ? compactJson(arr) : indentJson(arr)) + '\n');
  }
  if (errs.length) throw new StatusError(errs.join('\n'), 1);
}

function isRaw(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && 'raw' in v && 'value' in v && Object.keys(v).length === 2;
}

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

function skippable(e: unknown): boolean {
  if (e instanceof ApiError && e.status === 404) return true;
  const m = errorText(e);
  return m.includes('not supported') || m.includes('invalid reference format');
}

export function inspectCommand(): CommandSpec<DockCli> {
  return {
    use: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
    short: 'Return low-level information on Docker objects',
    args: minArgs(1),
    flags: (f) => {
      f.string('format', 'f', '', INSPECT_FORMAT_HELP);
      f.string('type', '', '', 'Only inspect objects of the given type');
      f.bool('size', 's', false, 'Display total file sizes if the type is container');
    },
    run: async ({ cli, flags, args }) => {
      const type = flags.get<string>('type');
      const all = `"${ALL_TYPES.join('", "')}"`;
      if (flags.changed('type') && type === '') throw new Error(`type is empty: must be one of ${all}`);
      if (type !== '' && !ALL_TYPES.includes(type)) throw new Error(`unknown type: "${type}": must be one of ${all}`);
      const size = flags.get<boolean>('size');
      const client = await cli.client();
      const kinds: [string, (r: string) => Promise<Raw>, boolean][] = [
        ['container', (r) => getRaw(client, `/containers/${esc(r)}/json`, size ? { size: '1' } : undefined), true],
        ['image', (r) => getRaw(client, `/images/${esc(r)}/json`), false],
        ['network', (r) => getRaw(client, `/networks/${esc(r)}`), false],
        ['volume', (r) => getRaw(client, `/volumes/${esc(r)}`), false],
        ['plugin', (r) => getRaw(client, `/plugins/${esc(r)}/json`), false],
      ];
      await inspectRefs(cli, args, flags.get<string>('format'), async (ref) => {
        for (const [kind, get, sizeOk] of kinds) {
          if (type !== '' && kind !== type) continue;
          try {
            const r = await get(ref);
            if (size && !sizeOk) cli.err.write(`WARNING: --size ignored for ${kind}\n`);
            return r;
          } catch (e) {
            if (type === '' && skippable(e)) continue;
            throw e;
          }
        }
        throw new Error(`Error: No such object: ${ref}`);
      });
    },
  };
}
