// Numbers and dates as a Chinese reader expects them. Pure functions (tested with node --test).

const INT = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 0 });
const DEC = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 1 });

/** 12,840 */
export function num(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return Number.isInteger(value) ? INT.format(value) : DEC.format(value);
}

/** A 0..1 rate as "93.3%", null as "—" (nothing to divide: no rating, no household). */
export function pct(rate) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—';
  return `${DEC.format(rate * 100)}%`;
}

/** A 0..1 rate as a chart value in percent (one decimal), null stays null (no bar). */
export function pctValue(rate) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return null;
  return Math.round(rate * 1000) / 10;
}

/** "2026-03" → "3月"; with the year when asked ("2026年3月"). */
export function monthLabel(month, withYear = false) {
  const [y, m] = String(month).split('-');
  const label = `${Number(m)}月`;
  return withYear ? `${y}年${label}` : label;
}

/** "2026Q4" → "2026年第4季度" (as the quarter picker says it) */
export function quarterLabel(code) {
  const match = /^(\d{4})Q([1-4])$/.exec(code || '');
  if (!match) return code || '';
  return `${match[1]}年第${match[2]}季度`;
}

/** Sum of one key over rows. */
export function total(rows, key) {
  return (rows || []).reduce((s, r) => s + (Number(r[key]) || 0), 0);
}

/** The row with the largest `key` (first on ties), or null when every value is 0 or absent. */
export function topBy(rows, key) {
  let best = null;
  for (const row of rows || []) {
    if ((Number(row[key]) || 0) > 0 && (best === null || row[key] > best[key])) best = row;
  }
  return best;
}

/** The row with the smallest non-null `key`, or null. */
export function lowestBy(rows, key) {
  let low = null;
  for (const row of rows || []) {
    if (row[key] === null || row[key] === undefined) continue;
    if (low === null || row[key] < low[key]) low = row;
  }
  return low;
}
