// Go's text/tabwriter (elastic tabstops) with docker's settings: minwidth 10, padding 3, spaces, no
// flags. Cells are tab-terminated; the text after a line's last tab is not part of any column; a
// line without tabs ends the column blocks above it (Go flushes there). Widths count runes.

export type TabwriterOptions = { minwidth: number; tabwidth: number; padding: number; padchar: string };

export const DOCKER_TABWRITER: TabwriterOptions = { minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ' };

type Cell = { text: string; width: number };

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Formats text as tabwriter.Writer would after Write(text) and Flush(). */
export function tabwrite(text: string, o: TabwriterOptions = DOCKER_TABWRITER): string {
  const rawLines = text.split('\n');
  const trailingNewline = rawLines.length > 1 && rawLines.at(-1) === '';
  if (trailingNewline) rawLines.pop();
  let out = '';
  let block: Cell[][] = [];
  const flush = () => {
    out += formatBlock(block, o);
    block = [];
  };
  rawLines.forEach((l, i) => {
    const cells = l.split('\t').map((t) => ({ text: t, width: runeCount(t) }));
    block.push(cells);
    const last = i === rawLines.length - 1 && !trailingNewline;
    if (cells.length === 1 && !last) flush();
  });
  if (block.length) {
    // The last line has no newline unless the input ended with one.
    const s = formatBlock(block, o);
    out += trailingNewline ? s : s.slice(0, -1);
  }
  return out;
}

function formatBlock(lines: Cell[][], o: TabwriterOptions): string {
  const out: string[] = [];
  const widths: number[] = [];
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      let s = '';
      line.forEach((c, j) => {
        s += c.text;
        if (j < widths.length) s += o.padchar.repeat(Math.max(0, widths[j]! - c.width));
      });
      out.push(s + '\n');
    }
  };
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur]!.length - 1) continue;
      writeLines(line0, cur);
      line0 = cur;
      let width = o.minwidth;
      for (; cur < line1; cur++) {
        const line = lines[cur]!;
        if (column >= line.length - 1) break;
        const w = line[column]!.width + o.padding;
        if (w > width) width = w;
      }
      widths.push(width);
      format(line0, cur);
      widths.pop();
      line0 = cur;
      cur--;
    }
    writeLines(line0, line1);
  };
  // format() writes lines it has passed; run it over the whole block.
  formatAll(lines, format);
  return out.join('');
}

function formatAll(lines: Cell[][], format: (a: number, b: number) => void): void {
  format(0, lines.length);
}
