// The map's colours, legend and figure in words: pure (no Leaflet), tested with node --test.

import { num, pct } from './format.js';
import { COLORS } from './figures.js';

export const MODES = {
  overdue: {
    label: '按超期需求',
    legend: [
      { color: COLORS.green, text: '无超期' },
      { color: COLORS.amber, text: '超期 1–2 件' },
      { color: COLORS.red, text: '超期 3 件及以上' },
    ],
    color: (p) => (!p.overdue ? COLORS.green : p.overdue < 3 ? COLORS.amber : COLORS.red),
  },
  coverage: {
    label: '按走访覆盖率',
    legend: [
      { color: COLORS.green, text: '覆盖率 ≥ 80%' },
      { color: COLORS.amber, text: '50%–80%' },
      { color: COLORS.red, text: '< 50%' },
      { color: COLORS.grey, text: '无住户' },
    ],
    color: (p) =>
      p.coverage === null || p.coverage === undefined
        ? COLORS.grey
        : p.coverage >= 0.8
          ? COLORS.green
          : p.coverage >= 0.5
            ? COLORS.amber
            : COLORS.red,
  },
};

/** The map's figure in words: how many grids and households it shows and what stands out. */
export function mapWords(collection) {
  const grids = collection.features.filter((f) => f.properties.kind === 'grid');
  const homes = collection.features.filter((f) => f.properties.kind === 'household');
  if (!grids.length) return '还没有录入网格边界：请在管理后台的网格中粘贴或上传 GeoJSON 边界。';
  let text = `地图显示 ${grids.length} 个网格的边界`;
  text += homes.length ? `和 ${num(homes.length)} 户住户的位置（只有位置，不含姓名地址）。` : '。';
  const overdue = grids.filter((g) => g.properties.overdue > 0);
  text += overdue.length
    ? `有超期需求的网格：${overdue.map((g) => `${g.properties.name}（${num(g.properties.overdue)} 件）`).join('，')}。`
    : '没有网格有超期需求。';
  const low = grids.filter((g) => g.properties.coverage !== null && g.properties.coverage < 0.5);
  if (low.length) text += `走访覆盖率低于 50% 的网格：${low.map((g) => `${g.properties.name}（${pct(g.properties.coverage)}）`).join('，')}。`;
  return text;
}
