import 'fake-indexeddb/auto';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { openDb } from '../src/lib/db.js';
import {
  Outbox,
  PENDING,
  SENT,
  FAILED,
  SENDING,
  backoffDelay,
  errorMessage,
} from '../src/lib/outbox.js';
import { wipeDevice } from '../src/lib/session.js';
import { recordVisit, submitClaim, dropLocal } from '../src/lib/store.js';

let n = 0;
let db;
let clock;

/**
 * A fake server with the API's idempotency: a key seen with a 2xx answer gets that answer
 * again (Idempotent-Replayed: true); refused requests are not remembered. `rows` counts what
 * was created. `plan` is a list of what the next requests do: 'ok', 'net' (no answer),
 * 'drop' (handled, then the connection dies before the answer), or a status with a body.
 */
function fakeServer() {
  const server = { calls: [], rows: [], plan: [], seen: new Map(), nextId: 100 };
  server.fetch = async (url, init) => {
    const key = init.headers['Idempotency-Key'];
    const isForm = typeof FormData !== 'undefined' && init.body instanceof FormData;
    const body = isForm ? Object.fromEntries(init.body.entries()) : JSON.parse(init.body || 'null');
    server.calls.push({ url, method: init.method, key, body, isForm });
    const step = server.plan.length ? server.plan.shift() : 'ok';
    if (step === 'net') throw new TypeError('Failed to fetch');
    if (typeof step === 'object') {
      return new Response(JSON.stringify(step.body), { status: step.status });
    }
    const fingerprint = `${url}|${isForm ? 'form' : JSON.stringify(body)}`;
    let answer;
    let replayed = false;
    if (server.seen.has(key)) {
      const first = server.seen.get(key);
      if (first.fingerprint !== fingerprint) {
        answer = { status: 409, data: { detail: 'This Idempotency-Key was already used.' } };
      } else {
        answer = first;
        replayed = true;
      }
    } else {
      const id = server.nextId++;
      const data = { id, ...(isForm ? { url: `/photo/${id}` } : body) };
      if (body?.needs) data.needs = body.needs.map((nd) => ({ ...nd, id: server.nextId++ }));
      server.rows.push({ url, id, key, body });
      answer = { status: 201, data, fingerprint };
      server.seen.set(key, answer);
    }
    if (step === 'drop') throw new TypeError('network connection was lost');
    return new Response(JSON.stringify(answer.data), {
      status: answer.status,
      headers: replayed ? { 'Idempotent-Replayed': 'true' } : {},
    });
  };
  return server;
}

function makeOutbox(server, extra = {}) {
  let k = 0;
  return new Outbox({
    db,
    fetch: server.fetch,
    getToken: () => 'tok',
    isOnline: () => true,
    now: () => clock,
    random: () => 0.5,
    uuid: () => `key-${++k}-${Math.random().toString(36).slice(2, 8)}`,
    baseDelay: 1000,
    maxDelay: 60000,
    ...extra,
  });
}

beforeEach(async () => {
  db = openDb(`test-${++n}`);
  await db.open();
  clock = 1_000_000;
});

afterEach(async () => {
  db.close();
  await db.delete();
});

describe('outbox', () => {
  it('sends records in the order they were made, each with its own key, then 已同步', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const a = await ob.enqueue({ kind: 'visit', url: '/api/v1/visits/', body: { household: 1 } });
    const b = await ob.enqueue({ kind: 'claim', url: '/api/v1/point-claims/', body: { rule: 2 } });
    const c = await ob.enqueue({ kind: 'need', url: '/api/v1/needs/', body: { title: 't' } });
    await ob.flush();
    expect(server.calls.map((x) => x.url)).toEqual([
      '/api/v1/visits/',
      '/api/v1/point-claims/',
      '/api/v1/needs/',
    ]);
    expect(server.calls.map((x) => x.key)).toEqual([a.key, b.key, c.key]);
    expect(new Set([a.key, b.key, c.key]).size).toBe(3);
    const all = await ob.list();
    expect(all.map((r) => r.state)).toEqual([SENT, SENT, SENT]);
    expect(all[0].result.id).toBe(100);
    expect(await ob.counts()).toEqual({ pending: 0, sent: 3, failed: 0 });
  });

  it('sends lanes side by side (at most `concurrency`), each lane strictly in order', async () => {
    let inflight = 0;
    let most = 0;
    const seen = [];
    const ob = makeOutbox(
      {
        fetch: async (url) => {
          inflight += 1;
          most = Math.max(most, inflight);
          // Hold each answer until three are on their way (or 2 s), so a slow machine
          // still shows the parallelism.
          const until = Date.now() + 2000;
          while (most < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
          await new Promise((r) => setTimeout(r, 5));
          seen.push(url);
          inflight -= 1;
          return new Response('{"id":1}', { status: 201 });
        },
      },
      { concurrency: 3 },
    );
    for (let h = 1; h <= 5; h++) {
      for (let i = 1; i <= 3; i++) {
        await ob.enqueue({ kind: 'visit', url: `/h${h}/${i}`, body: {}, lane: `household:${h}` });
      }
    }
    await ob.flush();
    expect((await ob.list()).every((r) => r.state === SENT)).toBe(true);
    expect(most).toBe(3);
    for (let h = 1; h <= 5; h++) {
      const mine = seen.filter((u) => u.startsWith(`/h${h}/`));
      expect(mine).toEqual([`/h${h}/1`, `/h${h}/2`, `/h${h}/3`]);
    }
  });

  it('a photo waiting for a failed need does not hold up the rest of its lane', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const lane = 'household:10';
    const need = await ob.enqueue({ kind: 'need', url: '/api/v1/needs/', body: {}, lane });
    await ob.enqueue({ kind: 'photo', url: '/api/v1/needs/{parent}/photos/', blob: new Blob(['x']), dependsOn: need.id, lane });
    await ob.enqueue({ kind: 'visit', url: '/api/v1/visits/', body: { household: 10 }, lane });
    server.plan = [{ status: 400, body: { title: ['必填'] } }];
    await ob.flush();
    expect((await ob.list()).map((r) => [r.kind, r.state])).toEqual([
      ['need', FAILED],
      ['photo', PENDING],
      ['visit', SENT],
    ]);
  });

  it('sends nothing while offline, and everything once online', async () => {
    const server = fakeServer();
    let online = false;
    const ob = makeOutbox(server, { isOnline: () => online });
    await ob.enqueue({ kind: 'visit', url: '/v/', body: {} });
    await ob.flush();
    expect(server.calls).toHaveLength(0);
    expect((await ob.list())[0]).toMatchObject({ state: PENDING, attempts: 0 });
    online = true;
    await ob.flush();
    expect((await ob.list())[0].state).toBe(SENT);
  });

  it('retries network errors with exponential backoff and jitter, keeping the order', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const a = await ob.enqueue({ kind: 'visit', url: '/a/', body: {} });
    await ob.enqueue({ kind: 'visit', url: '/b/', body: {} });
    server.plan = ['net'];
    await ob.flush();
    let [ra, rb] = await ob.list();
    expect(ra).toMatchObject({ state: PENDING, attempts: 1, lastError: '网络中断，稍后自动重发' });
    // random() = 0.5: half of 1 s fixed + a quarter of it → 750 ms
    expect(ra.nextAttemptAt - clock).toBe(750);
    expect(rb.state).toBe(PENDING); // waits behind a
    expect(server.calls).toHaveLength(1);

    await ob.flush(); // too early: nothing goes
    expect(server.calls).toHaveLength(1);

    clock += 750;
    server.plan = ['net'];
    await ob.flush();
    [ra] = await ob.list();
    expect(ra.attempts).toBe(2);
    expect(ra.nextAttemptAt - clock).toBe(1500); // doubled

    clock += 1500;
    await ob.flush();
    [ra, rb] = await ob.list();
    expect([ra.state, rb.state]).toEqual([SENT, SENT]);
    expect(server.calls.map((c) => c.key)).toEqual([a.key, a.key, a.key, rb.key]);
  });

  it('sendNow() sends what waits for a backoff at once, same key', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const rec = await ob.enqueue({ kind: 'visit', url: '/a/', body: {} });
    server.plan = ['net'];
    await ob.flush();
    expect((await ob.list())[0].nextAttemptAt).toBeGreaterThan(clock);
    await ob.sendNow();
    expect((await ob.list())[0].state).toBe(SENT);
    expect(server.calls.map((c) => c.key)).toEqual([rec.key, rec.key]);
  });

  it('backoff grows to the cap and jitters between half and all of it', () => {
    const opts = { baseDelay: 1000, maxDelay: 8000 };
    expect(backoffDelay(1, { ...opts, random: () => 0 })).toBe(500);
    expect(backoffDelay(1, { ...opts, random: () => 0.999999 })).toBe(1000);
    expect(backoffDelay(3, { ...opts, random: () => 1 })).toBe(4000);
    expect(backoffDelay(10, { ...opts, random: () => 1 })).toBe(8000);
  });

  it('retries 5xx and 429, honouring Retry-After', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    await ob.enqueue({ kind: 'claim', url: '/c/', body: {} });
    server.plan = [{ status: 503, body: { detail: 'busy' } }];
    await ob.flush();
    let [r] = await ob.list();
    expect(r).toMatchObject({ state: PENDING, attempts: 1, status: 503 });
    clock = r.nextAttemptAt;
    const orig = server.fetch;
    server.fetch = async () =>
      new Response('{}', { status: 429, headers: { 'Retry-After': '30' } });
    ob.fetchImpl = server.fetch;
    await ob.flush();
    [r] = await ob.list();
    expect(r).toMatchObject({ state: PENDING, attempts: 2, status: 429 });
    expect(r.nextAttemptAt - clock).toBe(30000);
    ob.fetchImpl = orig;
    clock = r.nextAttemptAt;
    await ob.flush();
    expect((await ob.list())[0].state).toBe(SENT);
  });

  it('gives up on a record that keeps failing with 5xx after maxServerAttempts', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server, { maxServerAttempts: 2 });
    await ob.enqueue({ kind: 'claim', url: '/c/', body: {} });
    server.plan = [
      { status: 500, body: { detail: 'boom' } },
      { status: 500, body: { detail: 'boom' } },
    ];
    await ob.flush();
    clock += 10000;
    await ob.flush();
    expect((await ob.list())[0]).toMatchObject({ state: FAILED, lastError: 'boom' });
  });

  it.each([
    [400, { points: ['本季度该规则的积分已达上限。'] }, '积分: 本季度该规则的积分已达上限。'],
    [403, { detail: '您没有执行该操作的权限。' }, '您没有执行该操作的权限。'],
    [404, { detail: '未找到。' }, '未找到。'],
    [409, { detail: 'This Idempotency-Key was already used.' }, 'This Idempotency-Key was already used.'],
  ])('does not retry %i: 同步失败 with the server\'s message', async (status, body, message) => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    await ob.enqueue({ kind: 'claim', url: '/c/', body: { points: 5 } });
    const next = await ob.enqueue({ kind: 'visit', url: '/v/', body: {} });
    server.plan = [{ status, body }];
    await ob.flush();
    const [r, r2] = await ob.list();
    expect(r).toMatchObject({ state: FAILED, status, lastError: message, attempts: 1 });
    expect(r2.state).toBe(SENT); // an independent record behind it is not held up
    clock += 10 * 60 * 1000;
    await ob.flush();
    expect(server.calls).toHaveLength(2); // never retried by itself
    expect(next.key).toBeTruthy();
  });

  it('reads nested error bodies (a need inside a visit)', () => {
    expect(errorMessage(400, { needs: [{}, { title: ['必填项。'] }] })).toBe('标题: 必填项。');
    expect(errorMessage(400, { non_field_errors: ['该居民已迁出。'] })).toBe('该居民已迁出。');
    expect(errorMessage(502, null)).toBe('服务器返回 502');
  });

  it('sends a photo after its need, to the need id the server gave', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const photo = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/jpeg' });
    server.plan = ['net'];
    const rec = await recordVisit(db, ob, {
      household: 10,
      method: 'in_person',
      notes: '老人身体还好',
      needs: [
        { category: 'infrastructure', title: '路灯坏了', text: '三组路口', photos: [] },
        { category: 'safety', title: '电线老化', text: '', photos: [photo] },
      ],
    });
    await ob.flush(); // the visit meets a dead network: the photo must not go first
    expect(server.calls).toHaveLength(1);
    let all = await ob.list();
    expect(all.map((r) => [r.kind, r.state])).toEqual([
      ['visit', PENDING],
      ['photo', PENDING],
    ]);
    clock = all[0].nextAttemptAt;
    await ob.flush();
    all = await ob.list();
    expect(all.map((r) => r.state)).toEqual([SENT, SENT]);
    const visit = all[0].result;
    const photoCall = server.calls[2];
    expect(photoCall.url).toBe(`/api/v1/needs/${visit.needs[1].id}/photos/`);
    expect(photoCall.isForm).toBe(true);
    expect(photoCall.body.image).toBeInstanceOf(Blob);
    expect(all[1].dependsOn).toBe(rec.id);
    expect(all[1]).toMatchObject({ blob: null, blobSize: 3 }); // storage freed once sent
  });

  it('holds a photo while its need has failed, and drops it with the need', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const need = await ob.enqueue({ kind: 'need', url: '/api/v1/needs/', body: { title: '' } });
    await ob.enqueue({
      kind: 'photo',
      url: '/api/v1/needs/{parent}/photos/',
      blob: new Blob(['x']),
      dependsOn: need.id,
    });
    server.plan = [{ status: 400, body: { title: ['该字段不能为空。'] } }];
    await ob.flush();
    let all = await ob.list();
    expect(all.map((r) => r.state)).toEqual([FAILED, PENDING]);
    expect(server.calls).toHaveLength(1);
    const gone = await ob.discard(need.id);
    expect(gone).toHaveLength(2);
    all = await ob.list();
    expect(all).toHaveLength(0);
  });

  it('resends with the same key after the connection dropped mid-send: one row', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const rec = await ob.enqueue({ kind: 'visit', url: '/api/v1/visits/', body: { household: 1 } });
    server.plan = ['drop']; // the server saved it, the answer never arrived
    await ob.flush();
    expect((await ob.list())[0].state).toBe(PENDING);
    expect(server.rows).toHaveLength(1);
    clock += 60000;
    await ob.flush();
    const [r] = await ob.list();
    expect(r.state).toBe(SENT);
    expect(r.replayed).toBe(true);
    expect(server.calls.map((c) => c.key)).toEqual([rec.key, rec.key]);
    expect(server.rows).toHaveLength(1);
  });

  it('after a reload (a record left "sending") resends with the same key: one row', async () => {
    const server = fakeServer();
    const first = makeOutbox(server);
    const rec = await first.enqueue({ kind: 'claim', url: '/api/v1/point-claims/', body: { a: 1 } });
    // The tab was killed after the server took the request, before the answer came back.
    server.plan = ['drop'];
    await first._send({ ...rec }, null).catch(() => {});
    await db.outbox.update(rec.id, { state: SENDING });

    // A new page load: a new Outbox on the same store.
    const second = makeOutbox(server);
    expect(await second.recover()).toBe(1);
    expect((await second.list())[0]).toMatchObject({ state: PENDING, key: rec.key });
    await second.flush();
    expect((await second.list())[0].state).toBe(SENT);
    expect(server.calls.map((c) => c.key)).toEqual([rec.key, rec.key]);
    expect(server.rows).toHaveLength(1);
  });

  it('edits a failed record and resends it', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const rec = await ob.enqueue({ kind: 'claim', url: '/c/', body: { points: 50, note: '' } });
    server.plan = [{ status: 400, body: { points: ['最多 10 分。'] } }];
    await ob.flush();
    expect((await ob.list())[0]).toMatchObject({ state: FAILED, lastError: '积分: 最多 10 分。' });
    await ob.edit(rec.id, { body: { points: 10, note: '改为10分' } });
    const [r] = await ob.list();
    expect(r).toMatchObject({ state: SENT, lastError: null });
    expect(server.calls[1].body).toEqual({ points: 10, note: '改为10分' });
    expect(server.calls[1].key).toBe(rec.key);
    expect(server.rows).toHaveLength(1);
    await expect(ob.edit(rec.id, { body: {} })).rejects.toThrow();
  });

  it('retry() sends a failed record again at once, same key', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server);
    const rec = await ob.enqueue({ kind: 'claim', url: '/c/', body: {} });
    server.plan = [{ status: 403, body: { detail: 'no' } }];
    await ob.flush();
    await ob.retry(rec.id);
    expect((await ob.list())[0].state).toBe(SENT);
    expect(server.calls.map((c) => c.key)).toEqual([rec.key, rec.key]);
  });

  it('discards a record and its optimistic rows', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server, { isOnline: () => false });
    await db.residents.put({ id: 55, household: 10, name: '赵银名' });
    await db.rules.put({ id: 1, name: '清扫', points: 1, cap_per_period: 4 });
    const rec = await submitClaim(db, ob, {
      resident: 55,
      rule: 1,
      points: 2,
      occurred_on: '2026-12-06',
      note: '',
    });
    expect(await db.claims.count()).toBe(1);
    const gone = await ob.discard(rec.id);
    await dropLocal(db, gone);
    expect(await ob.list()).toHaveLength(0);
    expect(await db.claims.count()).toBe(0);
  });

  it('keeps the Authorization token and JSON content type on each send', async () => {
    const seen = [];
    const ob = makeOutbox({
      fetch: async (url, init) => {
        seen.push(init.headers);
        return new Response('{"id":1}', { status: 201 });
      },
    });
    await ob.enqueue({ kind: 'visit', url: '/v/', body: { a: 1 } });
    await ob.flush();
    expect(seen[0]).toMatchObject({
      Authorization: 'Token tok',
      'Content-Type': 'application/json',
    });
    expect(seen[0]['Idempotency-Key']).toMatch(/^key-1-/);
  });

  it('a 401 keeps the record pending and asks for a new log-in', async () => {
    let asked = 0;
    const ob = makeOutbox(
      { fetch: async () => new Response('{"detail":"x"}', { status: 401 }) },
      { onAuthError: () => asked++ },
    );
    await ob.enqueue({ kind: 'visit', url: '/v/', body: {} });
    await ob.flush();
    expect((await ob.list())[0].state).toBe(PENDING);
    expect(asked).toBe(1);
  });
});

describe('logout', () => {
  it('wipes the device store, localStorage and the data caches', async () => {
    const server = fakeServer();
    const ob = makeOutbox(server, { isOnline: () => false });
    await db.households.put({ id: 1, address: '一组3号' });
    await ob.enqueue({ kind: 'visit', url: '/v/', body: {} });
    const store = new Map([['gp.token', 'abc']]);
    const storage = { clear: () => store.clear() };
    const caches = new Set(['workbox-precache-v2-x', 'api-data', 'photos']);
    const cacheStorage = {
      keys: async () => [...caches],
      delete: async (name) => caches.delete(name),
    };
    const name = db.name;
    await wipeDevice(db, { storage, cacheStorage });
    expect(store.size).toBe(0);
    expect([...caches]).toEqual(['workbox-precache-v2-x']);
    db = openDb(name);
    await db.open();
    expect(await db.households.count()).toBe(0);
    expect(await db.outbox.count()).toBe(0);
  });
});
