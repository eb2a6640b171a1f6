// Every figure of the dashboard: its title, its chart (an ECharts option, or none for a big
// number or a table) and the same figure in words (a sentence and a small table) for screen
// readers and print. Pure functions of the endpoint's JSON (the contract in
// /api/v1/reports/dashboard/), tested with node --test; main.js draws them.

import { lowestBy, monthLabel, num, pct, pctValue, topBy, total } from './format.js';

export const COLORS = {
  red: '#b42318',
  blue: '#1f6feb',
  green: '#1a7f37',
  amber: '#bf8700',
  purple: '#8250df',
  grey: '#8c959f',
  teal: '#0e7c86',
};
const PALETTE = [COLORS.blue, COLORS.green, COLORS.amber, COLORS.red, COLORS.purple, COLORS.teal, COLORS.grey];

const FONT = 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

// ------------------------------------------------------------------------- option helpers

function base(extra) {
  return {
    color: PALETTE,
    textStyle: { fontFamily: FONT },
    animation: false, // drawn at once: for print, screenshots and slow phones alike
    tooltip: { trigger: 'axis', confine: true },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    ...extra,
  };
}

function empty(option, rows) {
  if (rows && rows.length) return option;
  return {
    ...option,
    title: { text: '暂无数据', left: 'center', top: 'middle', textStyle: { color: COLORS.grey, fontSize: 14, fontWeight: 'normal' } },
  };
}

/** Horizontal bars per grid (names on the left read well on a phone). */
function perGridBars(rows, series, { max, unit = '', narrow = false, hideZero = series.length > 1 } = {}) {
  const names = rows.map((r) => r.grid);
  const shown = rows.some((r) => series.some((s) => s.value(r)));
  const label = (p) => (p.value === null || p.value === undefined ? '—' : `${num(p.value)}${unit}`);
  return empty(
    base({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, valueFormatter: (v) => (v === null || v === undefined ? '—' : `${num(v)}${unit}`) },
      legend: series.length > 1 ? { top: 0, type: 'scroll' } : { show: false },
      grid: { left: 8, right: 40, top: series.length > 1 ? 36 : 8, bottom: 8, containLabel: true },
      xAxis: {
        type: 'value',
        max,
        minInterval: 1,
        interval: max === 100 ? (narrow ? 50 : 25) : undefined,
        axisLabel: unit ? { formatter: `{value}${unit}` } : {},
      },
      yAxis: { type: 'category', data: names, inverse: true, axisLabel: { width: narrow ? 84 : 110, overflow: 'truncate' } },
      series: series.map((s) => ({
        type: 'bar',
        name: s.name,
        data: rows.map(s.value),
        itemStyle: { color: s.color },
        barMaxWidth: 18,
        label: { show: true, position: 'right', formatter: (p) => (hideZero && !p.value ? '' : label(p)) },
      })),
    }),
    shown || !hideZero ? rows : [],
  );
}

/** A chart's height in px for a list of `n` grids drawn as horizontal bars. */
function barsHeight(n, perRow = 28, series = 1) {
  return Math.max(220, 60 + n * perRow * Math.max(1, series * 0.7));
}

function monthly(months, series) {
  return base({
    tooltip: { trigger: 'axis', confine: true },
    xAxis: { type: 'category', data: months.map((m) => monthLabel(m)) },
    yAxis: { type: 'value', minInterval: 1 },
    series,
  });
}

// ------------------------------------------------------------------------- the figures

/**
 * Each figure: `key` (the contract's key, also the card's data-figure), `section`, `title`,
 * `chart(d)` → ECharts option or null, `height(d)`, `words(d)` → { text, table? }.
 * A table is { head: [..], rows: [[..], ..] }.
 */
export const FIGURES = [
  {
    key: 'needs_monthly',
    section: 'needs',
    title: '需求受理与办结（近12个月）',
    wide: true,
    chart: (d) =>
      monthly(d.period.months, [
        { type: 'bar', name: '收到', data: d.needs_monthly.map((r) => r.received), itemStyle: { color: COLORS.blue } },
        { type: 'bar', name: '办结', data: d.needs_monthly.map((r) => r.resolved), itemStyle: { color: COLORS.green } },
        { type: 'line', name: '按时办结', data: d.needs_monthly.map((r) => r.resolved_on_time), itemStyle: { color: COLORS.amber }, symbolSize: 6 },
      ]),
    words: (d) => {
      const rows = d.needs_monthly;
      const received = total(rows, 'received');
      const resolved = total(rows, 'resolved');
      const onTime = total(rows, 'resolved_on_time');
      const last = rows[rows.length - 1];
      let text = `近12个月共收到需求 ${num(received)} 件，办结 ${num(resolved)} 件，其中按时办结 ${num(onTime)} 件`;
      text += resolved ? `（按时率 ${pct(onTime / resolved)}）。` : '。';
      if (last) text += `${monthLabel(last.month, true)}收到 ${num(last.received)} 件，办结 ${num(last.resolved)} 件。`;
      return {
        text,
        table: {
          head: ['月份', '收到', '办结', '按时办结'],
          rows: rows.map((r) => [monthLabel(r.month, true), num(r.received), num(r.resolved), num(r.resolved_on_time)]),
        },
      };
    },
  },
  {
    key: 'needs_open_by_category',
    section: 'needs',
    title: '未办结需求（按类别）',
    height: (d) => 260 + 22 * Math.ceil(d.needs_open_by_category.length / 3),
    chart: (d, { narrow } = {}) =>
      empty(
        base({
          tooltip: { trigger: 'item', confine: true, formatter: '{b}：{c} 件（{d}%）' },
          // Every category in the legend (wrapping, not paged): the print shows them all.
          legend: { bottom: 0, type: 'plain', itemGap: 8, itemWidth: 14 },
          series: [
            {
              type: 'pie',
              radius: ['34%', '60%'],
              center: ['50%', '40%'],
              data: d.needs_open_by_category.map((r) => ({ name: r.label, value: r.count })),
              label: narrow ? { position: 'inside', formatter: '{c}', color: '#fff', fontWeight: 600 } : { formatter: '{b}\n{c}件', fontSize: 12 },
            },
          ],
        }),
        d.needs_open_by_category.filter((r) => r.count > 0),
      ),
    words: (d) => {
      const rows = d.needs_open_by_category.filter((r) => r.count > 0);
      const sum = total(rows, 'count');
      if (!sum) return { text: '目前没有未办结的需求。' };
      const parts = [...rows].sort((a, b) => b.count - a.count).map((r) => `${r.label} ${num(r.count)} 件`);
      return { text: `未办结需求共 ${num(sum)} 件：${parts.join('，')}。` };
    },
  },
  {
    key: 'needs_overdue_by_grid',
    source: 'needs_by_grid',
    section: 'needs',
    title: '超期需求（按网格）',
    height: (d) => barsHeight(d.needs_by_grid.length, 28, 2),
    chart: (d, ctx) =>
      perGridBars(
        d.needs_by_grid,
        [
          { name: '未办结', value: (r) => r.open, color: COLORS.blue },
          { name: '超期', value: (r) => r.overdue, color: COLORS.red },
        ],
        ctx,
      ),
    words: (d) => {
      const rows = d.needs_by_grid;
      const overdue = total(rows, 'overdue');
      const worst = topBy(rows, 'overdue');
      let text = `未办结需求 ${num(total(rows, 'open'))} 件，其中超期 ${num(overdue)} 件`;
      text += worst ? `；超期最多的是${worst.grid}（${num(worst.overdue)} 件）。` : '，没有超期的需求。';
      return {
        text,
        table: { head: ['网格', '未办结', '超期'], rows: rows.map((r) => [r.grid, num(r.open), num(r.overdue)]) },
      };
    },
  },
  {
    key: 'needs_satisfaction_by_grid',
    source: 'needs_by_grid',
    section: 'needs',
    title: '好评率与主动评价率（按网格）',
    height: (d) => barsHeight(d.needs_by_grid.length, 28, 2),
    chart: (d, ctx) =>
      perGridBars(
        d.needs_by_grid,
        [
          { name: '好评率', value: (r) => pctValue(r.satisfaction_rate), color: COLORS.green },
          { name: '评价率', value: (r) => pctValue(r.rating_rate), color: COLORS.purple },
        ],
        { ...ctx, max: 100, unit: '%', hideZero: false },
      ),
    words: (d) => {
      const rows = d.needs_by_grid;
      const rated = total(rows, 'rated');
      const satisfied = total(rows, 'satisfied');
      const resolved = total(rows, 'resolved');
      let text = `已办结 ${num(resolved)} 件中，居民评价了 ${num(rated)} 件`;
      text += resolved ? `（评价率 ${pct(rated / resolved)}）` : '';
      text += rated ? `，满意 ${num(satisfied)} 件，好评率 ${pct(satisfied / rated)}。` : '，暂无评价。';
      const low = lowestBy(rows, 'satisfaction_rate');
      if (low && rows.length > 1) text += `好评率最低的是${low.grid}（${pct(low.satisfaction_rate)}）。`;
      return {
        text,
        table: {
          head: ['网格', '办结', '评价', '满意', '好评率', '评价率'],
          rows: rows.map((r) => [r.grid, num(r.resolved), num(r.rated), num(r.satisfied), pct(r.satisfaction_rate), pct(r.rating_rate)]),
        },
      };
    },
  },
  {
    key: 'visits_coverage_by_grid',
    source: 'visits_by_grid',
    section: 'visits',
    title: '本季度走访覆盖率（不漏一户）',
    height: (d) => barsHeight(d.visits_by_grid.length),
    chart: (d, ctx) =>
      perGridBars(d.visits_by_grid, [{ name: '覆盖率', value: (r) => pctValue(r.coverage), color: COLORS.teal }], {
        ...ctx,
        max: 100,
        unit: '%',
      }),
    words: (d) => {
      const rows = d.visits_by_grid;
      const households = total(rows, 'households');
      const visited = total(rows, 'visited');
      let text = `本季度已走访 ${num(visited)} 户，共 ${num(households)} 户`;
      text += households ? `，覆盖率 ${pct(visited / households)}` : '';
      const low = lowestBy(rows, 'coverage');
      text += low && rows.length > 1 ? `；覆盖率最低的是${low.grid}（${pct(low.coverage)}）。` : '。';
      return {
        text,
        table: {
          head: ['网格', '户数', '已走访', '覆盖率'],
          rows: rows.map((r) => [r.grid, num(r.households), num(r.visited), pct(r.coverage)]),
        },
      };
    },
  },
  {
    key: 'visits_key_overdue_by_grid',
    source: 'visits_by_grid',
    section: 'visits',
    title: '重点人群超期未走访（按网格）',
    height: (d) => barsHeight(d.visits_by_grid.length),
    chart: (d, ctx) => perGridBars(d.visits_by_grid, [{ name: '超期未走访', value: (r) => r.key_overdue, color: COLORS.red }], ctx),
    words: (d) => {
      const rows = d.visits_by_grid;
      const sum = total(rows, 'key_overdue');
      const worst = topBy(rows, 'key_overdue');
      const text = sum
        ? `重点人群中有 ${num(sum)} 人超期未走访，最多的是${worst.grid}（${num(worst.key_overdue)} 人）。`
        : '重点人群都已按期走访。';
      return {
        text,
        table: { head: ['网格', '超期未走访（人）'], rows: rows.map((r) => [r.grid, num(r.key_overdue)]) },
      };
    },
  },
  {
    key: 'points_monthly',
    section: 'points',
    title: '积分发放、扣减与兑换（近12个月）',
    wide: true,
    chart: (d) =>
      monthly(d.period.months, [
        { type: 'bar', name: '获得', data: d.points_monthly.map((r) => r.earned), itemStyle: { color: COLORS.green } },
        { type: 'bar', name: '扣减', data: d.points_monthly.map((r) => r.deducted), itemStyle: { color: COLORS.red } },
        { type: 'bar', name: '兑换', data: d.points_monthly.map((r) => r.redeemed), itemStyle: { color: COLORS.blue } },
      ]),
    words: (d) => {
      const rows = d.points_monthly;
      return {
        text: `近12个月居民共获得积分 ${num(total(rows, 'earned'))} 分，扣减 ${num(total(rows, 'deducted'))} 分，兑换 ${num(total(rows, 'redeemed'))} 分。`,
        table: {
          head: ['月份', '获得', '扣减', '兑换'],
          rows: rows.map((r) => [monthLabel(r.month, true), num(r.earned), num(r.deducted), num(r.redeemed)]),
        },
      };
    },
  },
  {
    key: 'points_liability',
    section: 'points',
    title: '积分余额（待兑付）',
    big: (d) => ({ value: num(d.points_liability), unit: '分' }),
    words: (d) => ({ text: `居民账户积分余额合计 ${num(d.points_liability)} 分，是尚未兑换的积分总数。` }),
  },
  {
    key: 'claims_waiting',
    section: 'points',
    title: '待审批的积分申报',
    big: (d) => ({ value: num(d.claims_waiting.count), unit: '件' }),
    chart: (d) =>
      base({
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true },
        legend: { show: false },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: 'category', data: d.claims_waiting.by_age.map((r) => r.label) },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          {
            type: 'bar',
            name: '申报数',
            data: d.claims_waiting.by_age.map((r, i) => ({ value: r.count, itemStyle: { color: i >= 3 ? COLORS.red : i === 2 ? COLORS.amber : COLORS.blue } })),
            barMaxWidth: 40,
            label: { show: true, position: 'top' },
          },
        ],
      }),
    height: () => 200,
    words: (d) => {
      const c = d.claims_waiting;
      if (!c.count) return { text: '没有等待审批的积分申报。' };
      const ages = c.by_age.filter((r) => r.count).map((r) => `${r.label} ${num(r.count)} 件`);
      return {
        text: `有 ${num(c.count)} 件积分申报等待审批${c.oldest_days !== null ? `，最久的已等待 ${num(c.oldest_days)} 天` : ''}。按等待时间：${ages.join('，')}。`,
      };
    },
  },
  {
    key: 'ranking_top',
    section: 'points',
    title: '年度积分排行（前10名）',
    words: (d) => {
      const rows = d.ranking_top;
      if (!rows.length) return { text: '今年还没有人获得积分。' };
      return {
        text: `今年积分最高的是${rows[0].name}（${rows[0].grid}，${num(rows[0].points)} 分）。`,
        table: { head: ['名次', '姓名', '网格', '积分'], rows: rows.map((r) => [String(r.rank), r.name, r.grid, num(r.points)]) },
        tableOpen: true,
      };
    },
  },
  {
    key: 'redemption_by_community',
    section: 'redemption',
    title: '本季度兑换（按社区）',
    height: (d) => barsHeight(d.redemption_by_community.length, 36, 3),
    chart: (d, ctx) =>
      perGridBars(
        d.redemption_by_community.map((r) => ({ ...r, grid: r.community })),
        [
          { name: '订单', value: (r) => r.orders, color: COLORS.blue },
          { name: '件数', value: (r) => r.items, color: COLORS.green },
          { name: '未领取', value: (r) => r.uncollected, color: COLORS.red },
        ],
        ctx,
      ),
    words: (d) => {
      const rows = d.redemption_by_community;
      const orders = total(rows, 'orders');
      const text = orders
        ? `本季度兑换订单 ${num(orders)} 单，共 ${num(total(rows, 'items'))} 件商品，未领取 ${num(total(rows, 'uncollected'))} 单。`
        : '本季度还没有兑换订单。';
      return {
        text,
        table: {
          head: ['社区', '订单', '件数', '未领取'],
          rows: rows.map((r) => [r.community, num(r.orders), num(r.items), num(r.uncollected)]),
        },
      };
    },
  },
  {
    key: 'council',
    section: 'council',
    title: '议事会事项',
    big: (d) => ({ value: d.council.avg_score === null ? '—' : num(d.council.avg_score), unit: '分', label: '平均评议得分' }),
    height: () => 220,
    chart: (d, { narrow } = {}) =>
      empty(
        base({
          tooltip: { trigger: 'item', confine: true, formatter: '{b}：{c} 项（{d}%）' },
          legend: { bottom: 0 },
          series: [
            {
              type: 'pie',
              radius: ['40%', '68%'],
              center: ['50%', '45%'],
              data: [
                { name: '未销号', value: d.council.open, itemStyle: { color: COLORS.amber } },
                { name: '已销号', value: d.council.struck_off, itemStyle: { color: COLORS.green } },
              ],
              label: narrow ? { position: 'inside', formatter: '{c}', color: '#fff', fontWeight: 600 } : { formatter: '{b}\n{c}项' },
            },
          ],
        }),
        d.council.open + d.council.struck_off ? [1] : [],
      ),
    words: (d) => {
      const c = d.council;
      let text = `议事会事项未销号 ${num(c.open)} 项，已销号 ${num(c.struck_off)} 项`;
      text += c.avg_score === null ? '，尚无评议得分。' : `，平均评议得分 ${num(c.avg_score)} 分。`;
      return { text };
    },
  },
  {
    key: 'volunteer_hours',
    section: 'volunteers',
    title: '志愿服务时长（按队伍、按月）',
    wide: true,
    chart: (d) => {
      const teams = volunteerTeams(d);
      return empty(
        monthly(
          d.period.months,
          teams.map((t) => ({ type: 'line', name: t.team, data: d.period.months.map((m) => t.byMonth.get(m) ?? 0), symbolSize: 5 })),
        ),
        teams,
      );
    },
    words: (d) => {
      const teams = volunteerTeams(d);
      if (!teams.length) return { text: '近12个月没有记录志愿服务时长。' };
      const sum = teams.reduce((s, t) => s + t.total, 0);
      const top = [...teams].sort((a, b) => b.total - a.total)[0];
      return {
        text: `近12个月 ${teams.length} 支志愿服务队共服务 ${num(sum)} 小时，最多的是${top.team}（${num(top.total)} 小时）。`,
        table: {
          head: ['队伍', '近12个月（小时）', `${monthLabel(d.period.months[d.period.months.length - 1], true)}（小时）`],
          rows: teams.map((t) => [t.team, num(t.total), num(t.byMonth.get(d.period.months[d.period.months.length - 1]) ?? 0)]),
        },
      };
    },
  },
];

/** Volunteer hours regrouped per team: [{ team, byMonth: Map(month → hours), total }]. */
export function volunteerTeams(d) {
  const teams = new Map();
  for (const row of d.volunteer_hours || []) {
    let t = teams.get(row.team_id);
    if (!t) teams.set(row.team_id, (t = { team: row.team, byMonth: new Map(), total: 0 }));
    t.byMonth.set(row.month, (t.byMonth.get(row.month) ?? 0) + row.hours);
    t.total += row.hours;
  }
  for (const t of teams.values()) t.total = Math.round(t.total * 10) / 10;
  return [...teams.values()];
}

export const SECTIONS = [
  { key: 'needs', title: '需求办理' },
  { key: 'visits', title: '走访' },
  { key: 'points', title: '积分' },
  { key: 'redemption', title: '积分兑换' },
  { key: 'council', title: '议事会' },
  { key: 'volunteers', title: '志愿服务' },
];
