// Column alignment as Go's text/tabwriter does it for runc's tables: every column but the last is
// padded to max(width + padding, minWidth). Generic text formatting only.

export function formatTable(rows: readonly (readonly string[])[], minWidth: number, padding: number): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length + padding, minWidth);
    });
  }
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('') + '\n').join('');
}
