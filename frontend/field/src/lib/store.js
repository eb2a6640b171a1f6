// Reads of the device store for the screens, and the writes the worker makes: each write is
// queued in the outbox and shown at once in the device store (rows with id "local:<outbox id>").
import { localId, isLocalId, getMeta } from './db.js';
import { API } from './api.js';

export const OPEN_NEED = ['new', 'accepted', 'assigned', 'in_progress'];

export const NEED_STATUS = {
  new: '待受理',
  accepted: '已受理',
  assigned: '已交办',
  in_progress: '办理中',
  resolved: '已办结',
  closed: '已关闭',
  rejected: '不予受理',
};

export const DEFAULT_CHOICES = {
  visit_methods: [
    ['in_person', '入户走访'],
    ['phone', '电话'],
    ['appointment', '预约走访'],
    ['off_peak', '错时走访'],
  ],
  need_categories: [
    ['infrastructure', '路灯水'],
    ['environment', '环境卫生'],
    ['safety', '安全隐患'],
    ['elderly_care', '养老照护'],
    ['dispute', '矛盾纠纷'],
    ['policy', '政策咨询'],
    ['micro_wish', '微心愿'],
    ['other', '其他'],
  ],
};

export function todayStr(d = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function daysBetween(from, to) {
  const a = Date.parse(`${from}T00:00:00Z`);
  const b = Date.parse(`${to}T00:00:00Z`);
  return Math.round((b - a) / 86400000);
}

export async function choices(db) {
  const c = (await getMeta(db, 'choices')) || {};
  return {
    visit_methods: c.visit_methods?.length ? c.visit_methods : DEFAULT_CHOICES.visit_methods,
    need_categories: c.need_categories?.length
      ? c.need_categories
      : DEFAULT_CHOICES.need_categories,
  };
}

function householdsWithLocalVisit(visits) {
  return new Set(visits.filter((v) => isLocalId(v.id)).map((v) => v.household));
}

/**
 * The today list, in due order: households with residents due or overdue, needs assigned to
 * me (overdue first), follow-ups whose date has come, my rejected claims.
 * Each item: {type, key, date, overdueDays, title, subtitle, household?, need?, claim?}.
 */
export async function todayItems(db, today = todayStr()) {
  // Only what the list needs: the due rows, my needs, the follow-up visits and the device's own
  // visits (not every visit and household: a worker may have hundreds).
  // One read transaction for all of it (each IndexedDB round trip costs on a slow phone).
  return db.transaction(
    'r',
    [db.meta, db.due, db.needs, db.visits, db.households, db.claims_rejected, db.residents],
    () => readToday(db, today),
  );
}

async function readToday(db, today) {
  const [followUpsRow, due, needs, localVisits, rejected] = await Promise.all([
    db.meta.get('follow_ups'),
    db.due.toArray(),
    db.needs.filter((n) => n.assigned_to_me === true).toArray(),
    db.visits.where(':id').startsWith('local:').toArray(),
    db.claims_rejected.toArray(),
  ]);
  const followUps = followUpsRow?.value || [];
  const [fuVisits, rejectedResidents] = await Promise.all([
    db.visits.bulkGet(followUps),
    db.residents.bulkGet(rejected.map((c) => c.resident ?? -1)),
  ]);
  const visits = [...fuVisits.filter(Boolean), ...localVisits];
  const wanted = [...new Set(visits.map((v) => v.household))];
  const households = (await db.households.bulkGet(wanted)).filter(Boolean);
  const hh = new Map(households.map((h) => [h.id, h]));
  const visitedHere = householdsWithLocalVisit(visits);
  const items = [];

  const byHousehold = new Map();
  for (const d of due) {
    if (visitedHere.has(d.household)) continue;
    const date = d.due_on || today;
    const overdueDays = d.due_on ? Math.max(0, daysBetween(d.due_on, today)) : null;
    const entry = byHousehold.get(d.household) || {
      type: 'due',
      key: `due-${d.household}`,
      household: d.household,
      date,
      overdueDays: 0,
      neverVisited: false,
      names: [],
      address: d.address || hh.get(d.household)?.address || '',
    };
    if (date < entry.date) entry.date = date;
    entry.overdueDays = Math.max(entry.overdueDays, overdueDays || 0);
    if (d.status === 'never_visited') entry.neverVisited = true;
    entry.names.push(d.name);
    byHousehold.set(d.household, entry);
  }
  for (const e of byHousehold.values()) {
    e.title = e.address;
    e.subtitle = `待走访：${e.names.join('、')}`;
    items.push(e);
  }

  for (const n of needs) {
    if (!n.assigned_to_me || !OPEN_NEED.includes(n.status)) continue;
    const date = n.due_on || '9999-12-31';
    const overdueDays = n.due_on ? Math.max(0, daysBetween(n.due_on, today)) : 0;
    items.push({
      type: 'need',
      key: `need-${n.id}`,
      need: n.id,
      household: n.household,
      date,
      overdueDays,
      title: n.title,
      subtitle: `${n.category_label || ''} · ${NEED_STATUS[n.status] || n.status_label || ''}${
        n.due_on ? ` · 期限 ${n.due_on}` : ''
      }`,
    });
  }

  const fu = new Set(followUps || []);
  for (const v of visits) {
    if (!fu.has(v.id) || !v.follow_up_on || v.follow_up_on > today) continue;
    if (visitedHere.has(v.household)) continue;
    const h = hh.get(v.household);
    items.push({
      type: 'follow_up',
      key: `fu-${v.id}`,
      household: v.household,
      date: v.follow_up_on,
      overdueDays: Math.max(0, daysBetween(v.follow_up_on, today)),
      title: h?.address || `户 ${v.household}`,
      subtitle: `回访：${v.notes || ''}`.slice(0, 60),
    });
  }

  for (const [i, c] of rejected.entries()) {
    const resident = rejectedResidents[i];
    items.push({
      type: 'rejected',
      key: `claim-${c.id}`,
      claim: c.id,
      household: resident?.household ?? null,
      date: today,
      overdueDays: 0,
      title: `${c.resident_name} · ${c.rule_name} ${c.points}分 被驳回`,
      subtitle: `理由：${c.reason || '—'}`,
    });
  }

  const order = { due: 0, follow_up: 1, need: 2, rejected: 3 };
  items.sort(
    (a, b) =>
      a.date.localeCompare(b.date) ||
      b.overdueDays - a.overdueDays ||
      order[a.type] - order[b.type] ||
      String(a.title).localeCompare(String(b.title), 'zh'),
  );
  return items;
}

/** Households whose address or phone, or a member's name or phone, contains q. */
export async function searchHouseholds(db, q) {
  const term = q.trim().toLowerCase();
  if (!term) return [];
  const [households, residents] = await Promise.all([
    db.households.toArray(),
    db.residents.toArray(),
  ]);
  const hits = new Map();
  for (const h of households) {
    if ((h.address || '').toLowerCase().includes(term) || (h.phone || '').includes(term)) {
      hits.set(h.id, { household: h, names: [] });
    }
  }
  const hh = new Map(households.map((h) => [h.id, h]));
  for (const r of residents) {
    if ((r.name || '').toLowerCase().includes(term) || (r.phone || '').includes(term)) {
      const h = hh.get(r.household);
      if (!h) continue;
      const hit = hits.get(h.id) || { household: h, names: [] };
      hit.names.push(r.name);
      hits.set(h.id, hit);
    }
  }
  return [...hits.values()].slice(0, 50);
}

export async function householdView(db, id) {
  const household = await db.households.get(id);
  if (!household) return null;
  const [residents, tags, visits, needs, due, outbox] = await Promise.all([
    db.residents.where('household').equals(id).toArray(),
    db.tags.toArray(),
    db.visits.where('household').equals(id).toArray(),
    db.needs.where('household').equals(id).toArray(),
    db.due.where('household').equals(id).toArray(),
    db.outbox.toArray(),
  ]);
  const tagName = new Map(tags.map((t) => [t.id, t.name]));
  const dueBy = new Map(due.map((d) => [d.resident, d]));
  const state = new Map(outbox.map((r) => [r.id, r.state]));
  const members = residents
    .map((r) => ({
      ...r,
      tagNames: (r.tags || []).map((t) => tagName.get(t) || t),
      due: dueBy.get(r.id) || null,
    }))
    .sort((a, b) => (a.id === household.head ? -1 : b.id === household.head ? 1 : a.id - b.id));
  const at = (v) => Date.parse(v.visited_at || '') || 0;
  const byDate = (a, b) => at(b) - at(a);
  return {
    household,
    members,
    visits: visits
      .map((v) => ({ ...v, syncState: v.outboxId ? state.get(v.outboxId) : null }))
      .sort(byDate),
    needs: needs
      .filter((n) => OPEN_NEED.includes(n.status))
      .map((n) => ({ ...n, syncState: n.outboxId ? state.get(n.outboxId) : null })),
  };
}

/** Points left under the rule's cap this quarter for the resident (null: no cap). */
export async function capLeft(db, resident, rule) {
  if (!rule || rule.cap_per_period == null) return null;
  const used = await db.cap_used.get([resident, rule.id]);
  const local = await db.claims
    .where('resident')
    .equals(resident)
    .filter((c) => c.rule === rule.id)
    .toArray();
  const total = (used?.points || 0) + local.reduce((s, c) => s + (c.points || 0), 0);
  return Math.max(0, rule.cap_per_period - total);
}

// ------------------------------------------------------------------------------ writes

async function queuePhotos(outbox, photos, { dependsOn = null, parentPath = 'id', needId, label, lane }) {
  for (const [i, blob] of (photos || []).entries()) {
    await outbox.enqueue({
      kind: 'photo',
      url: dependsOn != null ? `${API}/needs/{parent}/photos/` : `${API}/needs/${needId}/photos/`,
      blob,
      dependsOn,
      parentPath,
      label: `${label} · 照片 ${i + 1}`,
      lane,
      hold: true,
    });
  }
}

/**
 * 记录走访: one visit with the needs found on it, each with its photos. One tap: the visit
 * goes to the outbox (needs inside its body), the photos after it (dependsOn), and the device
 * store shows the visit and the needs at once.
 */
export async function recordVisit(db, outbox, form) {
  const household = await db.households.get(form.household);
  const body = {
    household: form.household,
    method: form.method,
    notes: form.notes || '',
    visited_at: form.visited_at || new Date().toISOString(),
    ...(form.follow_up_on ? { follow_up_on: form.follow_up_on } : {}),
    needs: (form.needs || []).map((n) => ({
      category: n.category,
      title: n.title,
      text: n.text || '',
      ...(n.resident ? { resident: n.resident } : {}),
    })),
  };
  const label = household?.address || `户 ${form.household}`;
  const lane = `household:${form.household}`;
  const rec = await outbox.enqueue({
    kind: 'visit',
    url: `${API}/visits/`,
    body,
    label,
    lane,
    meta: { household: form.household, photos: (form.needs || []).map((n) => n.photos?.length || 0) },
    hold: true,
  });
  for (const [i, n] of (form.needs || []).entries()) {
    await queuePhotos(outbox, n.photos, {
      dependsOn: rec.id,
      parentPath: `needs.${i}.id`,
      label: `${label} · ${n.title}`,
      lane,
    });
  }
  await db.visits.put({
    id: localId(rec.id),
    outboxId: rec.id,
    household: form.household,
    visited_at: body.visited_at,
    method: body.method,
    notes: body.notes,
    follow_up_on: body.follow_up_on || null,
    worker_name: '我',
  });
  for (const [i, n] of body.needs.entries()) {
    await db.needs.put({
      id: `${localId(rec.id)}:${i}`,
      outboxId: rec.id,
      grid: household?.grid,
      household: form.household,
      resident: n.resident || null,
      title: n.title,
      category: n.category,
      category_label: '',
      status: 'new',
      due_on: null,
      assigned_to_me: false,
      created_at: new Date().toISOString(),
    });
  }
  outbox.flush();
  return rec;
}

/** 上报需求 from a household page (source: grid patrol). */
export async function reportNeed(db, outbox, form) {
  const household = await db.households.get(form.household);
  const body = {
    grid: household?.grid,
    household: form.household,
    ...(form.resident ? { resident: form.resident } : {}),
    category: form.category,
    title: form.title,
    text: form.text || '',
    source: 'patrol',
  };
  const label = form.title;
  const lane = `household:${form.household}`;
  const rec = await outbox.enqueue({
    kind: 'need',
    url: `${API}/needs/`,
    body,
    label,
    lane,
    meta: { household: form.household },
    hold: true,
  });
  await queuePhotos(outbox, form.photos, { dependsOn: rec.id, parentPath: 'id', label, lane });
  await db.needs.put({
    id: localId(rec.id),
    outboxId: rec.id,
    grid: body.grid,
    household: form.household,
    resident: form.resident || null,
    title: body.title,
    category: body.category,
    category_label: '',
    status: 'new',
    due_on: null,
    assigned_to_me: false,
    created_at: new Date().toISOString(),
  });
  outbox.flush();
  return rec;
}

/** 申报积分: a claim for a resident under a rule. */
export async function submitClaim(db, outbox, form) {
  const resident = await db.residents.get(form.resident);
  const rule = await db.rules.get(form.rule);
  const body = {
    resident: form.resident,
    rule: form.rule,
    points: form.points,
    occurred_on: form.occurred_on,
    note: form.note || '',
  };
  const rec = await outbox.enqueue({
    kind: 'claim',
    url: `${API}/point-claims/`,
    body,
    label: `${resident?.name || ''} · ${rule?.name || ''} ${form.points}分`,
    lane: `household:${resident?.household ?? 'none'}`,
    meta: { household: resident?.household ?? null },
    hold: true,
  });
  await db.claims.put({
    id: localId(rec.id),
    outboxId: rec.id,
    resident: form.resident,
    rule: form.rule,
    points: form.points,
  });
  outbox.flush();
  return rec;
}

/** 开始处理 / 办结 on a need assigned to me (photos first, then the step). */
export async function needStep(db, outbox, need, step, { note = '', photos = [] } = {}) {
  const label = `${step === 'start' ? '开始处理' : '办结'} ${need.title}`;
  const lane = `need:${need.id}`;
  await queuePhotos(outbox, photos, { needId: need.id, label, lane });
  const body = step === 'resolve' ? { resolution: note } : { note };
  const rec = await outbox.enqueue({
    kind: 'need-step',
    url: `${API}/needs/${need.id}/${step}/`,
    body,
    label,
    lane,
    meta: { need: need.id },
    hold: true,
  });
  await db.needs.update(need.id, {
    status: step === 'start' ? 'in_progress' : 'resolved',
    pendingStep: rec.id,
  });
  outbox.flush();
  return rec;
}

/** After a record is sent: the device's optimistic rows learn their server ids. */
export async function afterSent(db, rec) {
  if (rec.kind === 'visit' && rec.result) {
    await db.visits.update(localId(rec.id), { serverId: rec.result.id });
    for (const [i, n] of (rec.result.needs || []).entries()) {
      await db.needs.update(`${localId(rec.id)}:${i}`, { serverId: n.id });
    }
  } else if (rec.kind === 'need' && rec.result) {
    await db.needs.update(localId(rec.id), { serverId: rec.result.id });
  } else if (rec.kind === 'claim' && rec.result) {
    await db.claims.update(localId(rec.id), { serverId: rec.result.id });
  }
}

/** A discarded outbox record takes its optimistic rows with it. */
export async function dropLocal(db, outboxIds) {
  const ids = new Set(outboxIds);
  for (const table of ['visits', 'needs', 'claims']) {
    await db[table].filter((r) => isLocalId(r.id) && ids.has(r.outboxId)).delete();
  }
  // A need step that will not be sent: the need's status comes back with the next refresh.
  await db.needs.filter((n) => ids.has(n.pendingStep)).modify({ pendingStep: null });
}
