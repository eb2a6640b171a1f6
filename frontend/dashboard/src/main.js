// 一图看懂: the dashboard page (/dashboard/, rendered by Django, reports/pages.py). Reads the two
// endpoints of the contract (GET /api/v1/reports/dashboard/ and …/dashboard/map/, with the
// session cookie and the page's own ?community=&grid=&quarter=), then draws every figure as a
// chart with the same figure in words beside it, the grid map, and the drill-down links.

import './style.css';

import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

import { h, table } from './dom.js';
import { FIGURES } from './figures.js';
import { num, pct, quarterLabel, total } from './format.js';
import { drawMap } from './map.js';
import { MODES, mapWords } from './map-words.js';
import { apiQuery, levelHref } from './query.js';

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

const LEVELS = { street: '街道', community: '社区', grid: '网格' };
// The map's width on A4 (210 mm less 2 × 12 mm margins, less the card's padding), in CSS px.
const PRINT_MAP_WIDTH = Math.floor(((210 - 24) / 25.4) * 96) - 24;

class HttpError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

async function getJSON(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) {
    let detail = '';
    try {
      detail = (await response.json()).detail || '';
    } catch {
      /* not JSON: keep the status alone */
    }
    throw new HttpError(response.status, detail);
  }
  return response.json();
}

function problem(error) {
  if (error instanceof HttpError) {
    if (error.status === 403) return '您没有查看这些数据的权限。';
    if (error.status === 404 || error.status === 400)
      return '所选的社区、网格或季度不存在，或不在您的管辖范围内。';
    if (error.status === 401) return '登录已过期，请重新登录。';
  }
  return '数据加载失败，请检查网络后刷新页面重试。';
}

// ------------------------------------------------------------------------- the parts

function scopeBar(d) {
  const quarter = d.period.quarter;
  const crumbs = d.scope.breadcrumbs || [];
  const nav = h(
    'nav',
    { class: 'crumbs', 'aria-label': '当前范围', dataset: { test: 'breadcrumbs' } },
    h(
      'ol',
      {},
      crumbs.map((c, i) =>
        h(
          'li',
          {},
          i === crumbs.length - 1
            ? h('span', { 'aria-current': 'page' }, c.name)
            : h('a', { href: levelHref(c, quarter) }, c.name),
        ),
      ),
    ),
  );
  const children = d.scope.children || [];
  const drill = children.length
    ? h(
        'div',
        { class: 'drill', dataset: { test: 'children' } },
        h('span', { class: 'muted' }, `下级${LEVELS[children[0].level] || ''}：`),
        h(
          'ul',
          {},
          children.map((c) => h('li', {}, h('a', { href: levelHref(c, quarter), dataset: { level: c.level, id: c.id } }, c.name))),
        ),
      )
    : null;
  const period = h(
    'p',
    { class: 'period muted' },
    `统计期：${quarterLabel(quarter)}（${d.period.start} 至 ${d.period.end}）；月度图表为最近 12 个月。`,
  );
  return h('div', { class: 'scope' }, nav, drill, period);
}

function kpis(d) {
  const received = total(d.needs_monthly, 'received');
  const open = total(d.needs_by_grid, 'open');
  const overdue = total(d.needs_by_grid, 'overdue');
  const households = total(d.visits_by_grid, 'households');
  const visited = total(d.visits_by_grid, 'visited');
  const rated = total(d.needs_by_grid, 'rated');
  const satisfied = total(d.needs_by_grid, 'satisfied');
  const tiles = [
    ['近12个月收到需求', `${num(received)}`, '件'],
    ['未办结 / 超期', `${num(open)} / ${num(overdue)}`, '件'],
    ['本季度走访覆盖率', households ? pct(visited / households) : '—', ''],
    ['好评率', rated ? pct(satisfied / rated) : '—', ''],
  ];
  return h(
    'dl',
    { class: 'kpis', dataset: { test: 'kpis' } },
    tiles.map(([label, value, unit]) => h('div', {}, h('dt', {}, label), h('dd', {}, value, unit ? h('small', {}, unit) : null))),
  );
}

function words(spec) {
  return h(
    'div',
    { class: 'words', dataset: { test: 'words' } },
    h('p', {}, spec.text),
    spec.table
      ? spec.tableOpen
        ? table(spec.table)
        : h('details', {}, h('summary', {}, '查看数据表'), table(spec.table))
      : null,
  );
}

const charts = [];

function figureCard(figure, d) {
  const id = `fig-${figure.key}`;
  const card = h('section', {
    class: `card${figure.wide ? ' wide' : ''}`,
    'aria-labelledby': id,
    dataset: { figure: figure.key, test: 'figure' },
  });
  card.append(h('h2', { id }, figure.title));
  if (figure.big) {
    const big = figure.big(d);
    card.append(h('p', { class: 'big', dataset: { test: 'big-number' } }, big.label ? h('span', { class: 'big-label' }, big.label) : null, big.value, h('small', {}, big.unit)));
  }
  let box = null;
  if (figure.chart) {
    const height = figure.height ? figure.height(d) : 280;
    // The chart is a picture of the words below it: screen readers read the words.
    box = h('div', { class: 'chart', 'aria-hidden': 'true', style: `height:${height}px`, dataset: { test: 'chart' } });
    card.append(box);
  }
  card.append(words(figure.words(d)));
  return { card, box, figure };
}

// Below this width a chart is drawn for a phone: pie labels inside, fewer axis ticks.
const NARROW = 480;

function mapCard(quarter) {
  const toggle = h(
    'fieldset',
    { class: 'toggle' },
    h('legend', { class: 'sr-only' }, '网格着色'),
    Object.entries(MODES).map(([key, mode], i) =>
      h('label', {}, h('input', { type: 'radio', name: 'map-mode', value: key, checked: i === 0, dataset: { test: `map-mode-${key}` } }), mode.label),
    ),
  );
  const box = h('div', { class: 'map', dataset: { test: 'map' }, role: 'region', 'aria-label': '网格地图' });
  const text = h('p', { dataset: { test: 'map-words' } }, '正在加载地图…');
  const card = h(
    'section',
    { class: 'card wide map-card', 'aria-labelledby': 'fig-map', dataset: { figure: 'map', test: 'map-card' } },
    h('div', { class: 'card-head' }, h('h2', { id: 'fig-map' }, '网格地图'), toggle),
    box,
    h('div', { class: 'words' }, text),
  );
  return {
    card,
    show(collection) {
      text.textContent = mapWords(collection);
      const note = collection.crs_note ? `坐标系：${collection.crs_note}。` : '';
      if (note) text.append(' ', h('span', { class: 'muted' }, note));
      const drawn = drawMap(box, collection, { hrefFor: (id) => levelHref({ level: 'grid', id }, quarter) });
      if (!drawn) {
        box.remove();
        toggle.remove();
        return;
      }
      toggle.addEventListener('change', (e) => drawn.setMode(e.target.value));
      let width = box.clientWidth;
      new ResizeObserver(() => {
        if (box.clientWidth === width) return; // our own change of height
        width = box.clientWidth;
        drawn.shape();
        drawn.fit();
      }).observe(box);
      // Printing lays the page out again at A4's width without telling Leaflet: size the map
      // for the paper first (A4 less the margins, style.css @page), and back after.
      const toPaper = (printing) => {
        box.style.width = printing ? `${PRINT_MAP_WIDTH}px` : '';
        if (printing) drawn.map.invalidateSize({ animate: false });
        else drawn.shape();
        drawn.fit();
      };
      window.addEventListener('beforeprint', () => toPaper(true));
      window.addEventListener('afterprint', () => toPaper(false));
      window.matchMedia('print').addEventListener('change', (e) => toPaper(e.matches));
    },
    fail(error) {
      box.remove();
      toggle.remove();
      text.textContent = `地图：${problem(error)}`;
    },
  };
}

// ------------------------------------------------------------------------- the page

async function main(root) {
  const query = apiQuery(window.location.search);
  const status = root.querySelector('[data-test=status]');
  root.setAttribute('aria-busy', 'true');
  const [data, geo] = await Promise.allSettled([getJSON(root.dataset.api + query), getJSON(root.dataset.mapApi + query)]);
  root.removeAttribute('aria-busy');
  if (data.status === 'rejected') {
    status.textContent = problem(data.reason);
    status.setAttribute('role', 'alert');
    status.classList.add('error');
    root.dataset.state = 'error';
    return;
  }
  const d = data.value;
  status.remove();
  const heading = `${d.scope.name} · ${quarterLabel(d.period.quarter)}`;
  document.title = `${heading} · 一图看懂`;
  const quarterField = document.querySelector('[data-test=quarter-select]');
  if (quarterField && ![...quarterField.options].some((o) => o.value === d.period.quarter)) {
    quarterField.append(h('option', { value: d.period.quarter }, quarterLabel(d.period.quarter)));
  }
  if (quarterField) quarterField.value = d.period.quarter;

  root.append(h('h2', { class: 'scope-title', dataset: { test: 'scope-title' } }, heading), scopeBar(d), kpis(d));
  const grid = h('div', { class: 'cards' });
  root.append(grid);

  const map = mapCard(d.period.quarter);
  const made = FIGURES.map((f) => figureCard(f, d));
  // The map after the needs over time: where the overdue needs and the unvisited homes are.
  grid.append(made[0].card, map.card, ...made.slice(1).map((m) => m.card));

  for (const m of made) {
    if (!m.box) continue;
    const chart = echarts.init(m.box, null, { renderer: 'canvas' });
    let narrow = m.box.clientWidth < NARROW;
    chart.setOption(m.figure.chart(d, { narrow }));
    charts.push(chart);
    new ResizeObserver(() => {
      const now = m.box.clientWidth < NARROW;
      if (now !== narrow) {
        narrow = now;
        chart.setOption(m.figure.chart(d, { narrow }), { notMerge: true });
      }
      chart.resize();
    }).observe(m.box);
  }
  if (geo.status === 'fulfilled') map.show(geo.value);
  else map.fail(geo.reason);
  root.dataset.state = 'ready';
}

const root = document.getElementById('dashboard');
if (root) {
  document.querySelector('[data-test=print]')?.addEventListener('click', () => window.print());
  // The quarter picker is a plain GET form; choosing a quarter submits it.
  const quarter = document.querySelector('[data-test=quarter-select]');
  quarter?.addEventListener('change', () => quarter.form.requestSubmit());
  document.querySelector('[data-test=quarter-form] noscript')?.remove();
  main(root).catch((error) => {
    // A bug of ours, not the server's: say so on the page and in the console.
    console.error(error);
    root.dataset.state = 'error';
    root.append(h('p', { class: 'status error', role: 'alert' }, '看板显示出错，请刷新页面重试。'));
  });
}
