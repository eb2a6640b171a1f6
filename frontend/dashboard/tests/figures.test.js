// The figures in words, from the contract's fixture (tests/fixtures/dashboard.json): node --test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { FIGURES, volunteerTeams } from '../src/figures.js';
import { monthLabel, num, pct, quarterLabel } from '../src/format.js';
import { mapWords } from '../src/map-words.js';
import { apiQuery, levelHref } from '../src/query.js';

const fixture = (name) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const d = fixture('dashboard.json');
const geo = fixture('dashboard_map.json');

const CONTRACT_KEYS = [
  'scope', 'period', 'needs_monthly', 'needs_open_by_category', 'needs_by_grid', 'visits_by_grid',
  'points_monthly', 'points_liability', 'ranking_top', 'claims_waiting', 'redemption_by_community',
  'council', 'volunteer_hours',
];

test('the fixture has every key of the contract and every key is drawn', () => {
  assert.deepEqual(Object.keys(d).sort(), [...CONTRACT_KEYS].sort());
  const drawn = new Set(FIGURES.map((f) => f.source || f.key));
  for (const key of CONTRACT_KEYS.filter((k) => k !== 'scope' && k !== 'period')) assert.ok(drawn.has(key), key);
});

test('every figure has words, and every chart an option', () => {
  for (const f of FIGURES) {
    const words = f.words(d);
    assert.ok(words.text.length > 10, f.key);
    if (f.chart) assert.ok(f.chart(d).series.length >= 1, f.key);
  }
});

test('the words give the same totals as the data', () => {
  const byKey = Object.fromEntries(FIGURES.map((f) => [f.key, f]));
  const received = d.needs_monthly.reduce((s, r) => s + r.received, 0);
  assert.match(byKey.needs_monthly.words(d).text, new RegExp(`收到需求 ${num(received)} 件`));
  assert.match(byKey.needs_overdue_by_grid.words(d).text, /超期 7 件；超期最多的是第三网格（3 件）/);
  assert.match(byKey.points_liability.words(d).text, /12,840 分/);
  assert.match(byKey.claims_waiting.words(d).text, /9 件积分申报等待审批，最久的已等待 8 天/);
  assert.match(byKey.council.words(d).text, /未销号 3 项，已销号 11 项，平均评议得分 4.6 分/);
  assert.equal(byKey.ranking_top.words(d).table.rows.length, 10);
  // A grid with nothing rated: its satisfaction rate is "—", not 0%.
  const sat = byKey.needs_satisfaction_by_grid.words(d).table.rows;
  assert.equal(sat[6][4], '—');
  assert.equal(byKey.needs_satisfaction_by_grid.chart(d).series[0].data[6], null);
});

test('an empty area says so instead of drawing nothing', () => {
  const none = {
    ...d,
    needs_open_by_category: [],
    needs_by_grid: [],
    visits_by_grid: [],
    ranking_top: [],
    claims_waiting: { count: 0, oldest_days: null, by_age: d.claims_waiting.by_age.map((r) => ({ ...r, count: 0 })) },
    redemption_by_community: [],
    council: { open: 0, struck_off: 0, avg_score: null },
    volunteer_hours: [],
  };
  const byKey = Object.fromEntries(FIGURES.map((f) => [f.key, f]));
  assert.equal(byKey.needs_open_by_category.words(none).text, '目前没有未办结的需求。');
  assert.equal(byKey.needs_open_by_category.chart(none).title.text, '暂无数据');
  assert.equal(byKey.claims_waiting.words(none).text, '没有等待审批的积分申报。');
  assert.match(byKey.council.words(none).text, /尚无评议得分/);
  assert.equal(byKey.volunteer_hours.words(none).text, '近12个月没有记录志愿服务时长。');
});

test('volunteer hours regroup per team', () => {
  const teams = volunteerTeams(d);
  assert.deepEqual(teams.map((t) => t.team), ['银龄调解队', '青年突击队', '巾帼学堂']);
  assert.equal(teams[0].byMonth.size, 12);
});

test('formats', () => {
  assert.equal(pct(0.9333), '93.3%');
  assert.equal(pct(null), '—');
  assert.equal(monthLabel('2026-03', true), '2026年3月');
  assert.equal(quarterLabel('2026Q4'), '2026年第4季度');
});

test('the query string passed on to the API, and the drill-down links', () => {
  assert.equal(apiQuery('?grid=3&x=1&quarter=2026Q3&community='), '?grid=3&quarter=2026Q3');
  assert.equal(apiQuery(''), '');
  assert.equal(levelHref({ level: 'community', id: 2 }, '2026Q4'), '?community=2&quarter=2026Q4');
  assert.equal(levelHref({ level: 'grid', id: 11 }, '2026Q4'), '?grid=11&quarter=2026Q4');
  assert.equal(levelHref({ level: 'street', id: 1 }, '2026Q4'), '?quarter=2026Q4');
});

test('the map in words names the grids with overdue needs and low coverage', () => {
  const text = mapWords(geo);
  assert.match(text, /7 个网格的边界和 28 户住户的位置/);
  assert.match(text, /第三网格（3 件）/);
  assert.match(text, /第四网格（36.4%）/);
  assert.match(mapWords({ features: [] }), /还没有录入网格边界/);
});
