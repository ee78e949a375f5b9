// dock inspect IMAGE...: docker-compatible JSON array (docker image inspect), or --format with {{.Field}} paths.
import type { Command } from 'commander';
import { messageOf } from '../../../src/errors/index';
import { inspectImage } from '../../../src/manager/images/inspect';
import { resolveImage } from '../../../src/manager/images/resolve';
import type { Cli } from './context';

/** A tiny subset of Go templates: {{.A.B}} and {{json .A}}; enough for scripts that read one field. */
export function renderFormat(fmt: string, obj: unknown): string {
  return fmt.replace(/\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}/g, (_m, json: string | undefined, p: string) => {
    let v: unknown = obj;
    for (const k of p.split('.').filter((x) => x !== '')) v = (v as Record<string, unknown> | null)?.[k];
    if (json) return JSON.stringify(v ?? null);
    if (v === null || v === undefined) return '<no value>';
    if (Array.isArray(v)) return `[${v.join(' ')}]`;
    if (typeof v === 'object') return `map[${Object.entries(v).map(([k, x]) => `${k}:${String(x)}`).join(' ')}]`;
    return String(v);
  });
}

export function register(program: Command, cli: Cli): void {
  program
    .command('inspect')
    .alias('image-inspect')
    .description('Return low-level information on images')
    .argument('<images...>')
    .option('-f, --format <template>', 'format the output using a Go-template subset')
    .action(
      cli.action(async (dock, names: string[], o: { format?: string }) => {
        const out: unknown[] = [];
        let code = 0;
        for (const n of names) {
          try {
            out.push(inspectImage((await resolveImage(dock, n)).image));
          } catch (e) {
            process.stderr.write(`Error: ${messageOf(e)}\n`);
            code = 1;
          }
        }
        if (o.format) for (const x of out) process.stdout.write(renderFormat(o.format, x) + '\n');
        else process.stdout.write(JSON.stringify(out, null, 4) + '\n');
        return code;
      }),
    );
}
