/**
 * Small text helpers for the commands' human output: counts that agree in number, and a status
 * line cut to the terminal's width (a line wider than the terminal wraps, and every `\r` update
 * then leaves a new line behind). Main thread, cold path.
 */

/** "1 part", "2 parts", with the count grouped by thousands. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${Math.round(n).toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** `s` cut to `columns - 1` characters (the last column is left free: some terminals wrap there). */
export function fitWidth(s: string, columns: number | undefined): string {
  if (columns === undefined || !Number.isFinite(columns) || columns <= 1) return s;
  const max = columns - 1;
  return s.length <= max ? s : s.slice(0, Math.max(0, max - 1)) + '…';
}
