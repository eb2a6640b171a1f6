import 'fake-indexeddb/auto';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { openDb, getMeta } from '../src/lib/db.js';
import { Outbox, SENT } from '../src/lib/outbox.js';
import { applyBundle, refreshBundle } from '../src/lib/bundle.js';
import { todayItems, recordVisit, searchHouseholds, capLeft, submitClaim } from '../src/lib/store.js';

let n = 0;
let db;

function bundle(extra = {}) {
  return {
    version: 'v1',
    full: true,
    today: '2026-12-06',
    period: '2026Q4',
    me: { id: 3, username: 'worker', name: '赵网格', role: 'worker', can_approve: false },
    grids: [{ id: 1, name: '第一网格' }],
    tags: [{ id: 1, name: '独居老人', visit_every_days: 7 }],
    households: [
      { id: 10, grid: 1, address: '一组3号', head: 55, phone: '13800000001', balance: 25 },
      { id: 11, grid: 1, address: '二组8号', head: 56, phone: '', balance: 0 },
      { id: 12, grid: 1, address: '三组1号', head: null, phone: '', balance: 0 },
    ],
    residents: [
      { id: 55, household: 10, name: '赵银名', tags: [1], id_number: '4111********123X' },
      { id: 56, household: 11, name: '王秀英', tags: [1], phone: '13911112222' },
    ],
    due: [
      { resident: 55, household: 10, name: '赵银名', address: '一组3号', due_on: '2026-12-01', status: 'overdue', days_overdue: 5 },
      { resident: 56, household: 11, name: '王秀英', address: '二组8号', due_on: '2026-12-06', status: 'due', days_overdue: 0 },
    ],
    visits: [
      { id: 1, household: 12, visited_at: '2026-11-20T09:00:00+08:00', method: 'in_person', notes: '漏水', follow_up_on: '2026-12-04' },
    ],
    follow_ups: [1],
    needs: [
      { id: 7, grid: 1, household: 10, title: '路灯不亮', status: 'assigned', due_on: '2026-12-03', assigned_to_me: true, category_label: '路灯水' },
      { id: 8, grid: 1, household: 11, title: '垃圾清运', status: 'assigned', due_on: '2026-12-20', assigned_to_me: true },
      { id: 9, grid: 1, household: 11, title: '别人的', status: 'assigned', due_on: '2026-12-01', assigned_to_me: false },
    ],
    rules: [{ id: 1, name: '清扫责任区', points: 1, max_points: null, cap_per_period: 4 }],
    cap_used: [{ resident: 55, rule: 1, points: 3 }],
    claims_rejected: [
      { id: 4, resident: 56, resident_name: '王秀英', rule: 1, rule_name: '清扫责任区', points: 1, reason: '照片不清', decided_at: '2026-12-05T10:00:00+08:00' },
    ],
    choices: { visit_methods: [['in_person', '入户走访']], need_categories: [['other', '其他']] },
    ...extra,
  };
}

beforeEach(async () => {
  db = openDb(`bundle-${++n}`);
  await db.open();
});
afterEach(async () => {
  db.close();
  await db.delete();
});

const offline = () => new Outbox({ db, isOnline: () => false });

describe('bundle and the today list', () => {
  it('lists due households, my needs, follow-ups and rejected claims in due order', async () => {
    await applyBundle(db, bundle());
    const items = await todayItems(db, '2026-12-06');
    expect(items.map((i) => i.key)).toEqual([
      'due-10', // due 12-01, 5 days overdue
      'need-7', // due 12-03
      'fu-1', // follow-up 12-04
      'due-11', // due today
      'claim-4', // rejected, to look at today
      'need-8', // due 12-20
    ]);
    expect(items[0]).toMatchObject({ overdueDays: 5, subtitle: '待走访：赵银名' });
    expect(items.find((i) => i.key === 'claim-4').subtitle).toBe('理由：照片不清');
  });

  it('a visit recorded offline takes the household off the list at once', async () => {
    await applyBundle(db, bundle());
    await recordVisit(db, offline(), { household: 10, method: 'in_person', notes: '', needs: [] });
    const keys = (await todayItems(db, '2026-12-06')).map((i) => i.key);
    expect(keys).not.toContain('due-10');
  });

  it('a refresh keeps the rows of records still to send, and drops them once sent', async () => {
    await applyBundle(db, bundle());
    const ob = offline();
    const rec = await recordVisit(db, ob, {
      household: 10,
      method: 'in_person',
      notes: '',
      needs: [{ category: 'other', title: '新需求', text: '', photos: [] }],
    });
    await applyBundle(db, bundle());
    expect(await db.visits.get(`local:${rec.id}`)).toBeTruthy();
    expect(await db.needs.get(`local:${rec.id}:0`)).toBeTruthy();
    await db.outbox.update(rec.id, { state: SENT, sentAt: 1000 });
    // a bundle fetched before the send finished still keeps them …
    await applyBundle(db, bundle(), { fetchStartedAt: 500 });
    expect(await db.visits.get(`local:${rec.id}`)).toBeTruthy();
    // … one fetched after it has the server's rows instead
    await applyBundle(db, bundle(), { fetchStartedAt: 2000 });
    expect(await db.visits.get(`local:${rec.id}`)).toBeUndefined();
    expect(await db.needs.get(`local:${rec.id}:0`)).toBeUndefined();
  });

  it('with ?since= keeps only the ids listed in current, and the device\'s own rows', async () => {
    await applyBundle(db, bundle());
    const rec = await recordVisit(db, offline(), { household: 10, method: 'in_person', notes: '', needs: [] });
    await applyBundle(db, {
      version: 'v2',
      full: false,
      households: [{ id: 10, grid: 1, address: '一组3号（改）' }],
      residents: [],
      visits: [],
      needs: [],
      due: [],
      current: { households: [10, 11], residents: [55, 56], visits: [], needs: [7] },
    });
    expect((await db.households.toArray()).map((h) => [h.id, h.address])).toEqual([
      [10, '一组3号（改）'],
      [11, '二组8号'],
    ]);
    expect((await db.needs.toArray()).map((n) => n.id)).toEqual([7]);
    expect((await db.visits.toArray()).map((v) => v.id)).toEqual([`local:${rec.id}`]);
  });

  it('applies ?since= changes and deletions, and sends If-None-Match', async () => {
    await applyBundle(db, bundle());
    const calls = [];
    const headers = new Map([['ETag', '"v2"']]);
    const request = async (path, opts) => {
      calls.push([path, opts.headers]);
      return {
        status: 200,
        headers,
        data: {
          version: 'v2',
          full: false,
          households: [{ id: 13, grid: 1, address: '四组2号' }],
          residents: [],
          deleted: { households: [12], residents: [], needs: [8] },
          due: [],
        },
      };
    };
    await refreshBundle(db, request);
    expect(calls[0][0]).toBe('/api/v1/field/bundle/?since=v1');
    expect((await db.households.toArray()).map((h) => h.id)).toEqual([10, 11, 13]);
    expect(await db.needs.get(8)).toBeUndefined();
    expect(await db.visits.count()).toBe(0); // household 12's visit went with it
    expect(await db.due.count()).toBe(0);
    expect(await getMeta(db, 'version')).toBe('v2');
    expect(await getMeta(db, 'etag')).toBe('"v2"');

    const r = await refreshBundle(db, async (path, opts) => {
      calls.push([path, opts.headers]);
      return { status: 304, data: null, headers: new Map() };
    });
    expect(r.changed).toBe(false);
    expect(calls[1]).toEqual(['/api/v1/field/bundle/?since=v2', { 'If-None-Match': '"v2"' }]);
  });

  it('searches by name, address and phone', async () => {
    await applyBundle(db, bundle());
    expect((await searchHouseholds(db, '王秀')).map((h) => h.household.id)).toEqual([11]);
    expect((await searchHouseholds(db, '一组')).map((h) => h.household.id)).toEqual([10]);
    expect((await searchHouseholds(db, '1391111')).map((h) => h.household.id)).toEqual([11]);
    expect((await searchHouseholds(db, '138000')).map((h) => h.household.id)).toEqual([10]);
  });

  it('counts what is left under the cap, with claims not yet sent', async () => {
    await applyBundle(db, bundle());
    const rule = await db.rules.get(1);
    expect(await capLeft(db, 55, rule)).toBe(1);
    await submitClaim(db, offline(), { resident: 55, rule: 1, points: 1, occurred_on: '2026-12-06' });
    expect(await capLeft(db, 55, rule)).toBe(0);
    expect(await capLeft(db, 56, rule)).toBe(4);
  });
});

describe('need steps on their way', () => {
  it('a refresh does not bring back the status a step not yet sent has changed', async () => {
    await applyBundle(db, bundle());
    const { needStep } = await import('../src/lib/store.js');
    const rec = await needStep(db, offline(), await db.needs.get(7), 'start');
    expect((await db.needs.get(7)).status).toBe('in_progress');
    await applyBundle(db, bundle());
    expect(await db.needs.get(7)).toMatchObject({ status: 'in_progress', pendingStep: rec.id });
  });
});
