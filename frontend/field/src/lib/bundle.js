// The worker's working set: GET /api/v1/field/bundle/ (whole, or ?since=<version> with ETag),
// kept in the device store. A refresh never drops the rows the worker added on the device that
// the server has not confirmed yet (see keepLocal).
import { BUNDLE_TABLES, getMeta, setMeta, isLocalId } from './db.js';
import { SENT } from './outbox.js';

// Tables a ?since= answer carries as changes (upsert; `current` lists the ids still there) …
const UPSERT = ['households', 'residents', 'visits', 'needs'];
// … and the small computed lists it carries whole when present.
const REPLACE = ['grids', 'tags', 'rules', 'due', 'cap_used', 'claims_rejected'];
const META_KEYS = ['me', 'today', 'period', 'choices', 'follow_ups', 'version'];

function keyOf(table, row) {
  if (table === 'cap_used') return [row.resident, row.rule];
  if (table === 'due') return row.resident;
  return row.id;
}

/**
 * Replace a table's server rows with `rows`: put the new ones first, then delete the ones that
 * are gone. (Never clear-then-fill: Dexie's live queries show a write transaction's changes as
 * they happen, and a screen would flash "not found" in between.)
 */
async function replaceRows(db, table, rows) {
  const fresh = new Set(rows.map((r) => JSON.stringify(keyOf(table, r))));
  const stored = await db[table].toCollection().primaryKeys();
  const stale = stored.filter((k) => !isLocalId(k) && !fresh.has(JSON.stringify(k)));
  await db[table].bulkPut(rows);
  await db[table].bulkDelete(stale);
}

/** Local rows whose outbox record is still to be sent (or was sent after the fetch began). */
async function keepLocal(db, table, fetchStartedAt) {
  const rows = await db[table].filter((r) => isLocalId(r.id)).toArray();
  const drop = [];
  for (const row of rows) {
    const rec = row.outboxId != null ? await db.outbox.get(row.outboxId) : null;
    if (!rec) drop.push(row.id);
    else if (rec.state === SENT && (rec.sentAt || 0) < fetchStartedAt) drop.push(row.id);
  }
  await db[table].bulkDelete(drop);
}

export async function applyBundle(db, data, { fetchStartedAt = Date.now() } = {}) {
  const tables = [...Object.keys(BUNDLE_TABLES), 'claims', 'meta'].map((t) => db[t]);
  await db.transaction('rw', [...tables, db.outbox], async () => {
    if (data.full !== false) {
      for (const table of Object.keys(BUNDLE_TABLES)) {
        // Server rows are replaced; the device's own rows stay.
        await replaceRows(db, table, Array.isArray(data[table]) ? data[table] : []);
      }
    } else {
      for (const table of UPSERT) {
        if (Array.isArray(data[table])) await db[table].bulkPut(data[table]);
      }
      for (const table of REPLACE) {
        if (Array.isArray(data[table])) await replaceRows(db, table, data[table]);
      }
      // The ids still in the working set: every other stored row of those tables goes (deleted,
      // closed, moved out of the area). The device's own rows stay.
      for (const [table, ids] of Object.entries(data.current || {})) {
        if (!db[table] || !Array.isArray(ids)) continue;
        const keep = new Set(ids);
        await db[table].filter((r) => !isLocalId(r.id) && !keep.has(r.id)).delete();
      }
      const deleted = data.deleted || {};
      for (const [table, ids] of Object.entries(deleted)) {
        if (db[table] && Array.isArray(ids)) await db[table].bulkDelete(ids);
      }
      // Visits of the residents who left with their household.
      const households = new Set((await db.households.toCollection().primaryKeys()));
      await db.visits.filter((v) => !isLocalId(v.id) && !households.has(v.household)).delete();
    }
    for (const table of ['visits', 'needs', 'claims']) await keepLocal(db, table, fetchStartedAt);
    // A step on a need (开始处理, 办结) still on its way: the server's older status must not
    // come back over what the worker did.
    const steps = await db.outbox
      .filter((r) => r.kind === 'need-step' && r.state !== SENT && r.meta?.need != null)
      .toArray();
    for (const r of steps) {
      await db.needs.update(r.meta.need, {
        status: r.url.endsWith('/start/') ? 'in_progress' : 'resolved',
        pendingStep: r.id,
      });
    }
    for (const key of META_KEYS) {
      if (data[key] !== undefined) await setMeta(db, key, data[key]);
    }
    await setMeta(db, 'syncedAt', Date.now());
  });
}

/**
 * Fetch and store the bundle. Returns {status, changed}. Throws an ApiError-like object from
 * `request` (403 with the server's message for users who may not use the app).
 */
export async function refreshBundle(db, request) {
  const version = await getMeta(db, 'version');
  const etag = await getMeta(db, 'etag');
  const fetchStartedAt = Date.now();
  const path = version
    ? `/api/v1/field/bundle/?since=${encodeURIComponent(version)}`
    : '/api/v1/field/bundle/';
  const headers = version && etag ? { 'If-None-Match': etag } : {};
  const { status, data, headers: h } = await request(path, { headers });
  if (status === 304) {
    // Nothing changed; a 304 may carry a fresher ETag (= the version), kept for next time.
    const fresh = h?.get?.('ETag');
    if (fresh) {
      await setMeta(db, 'etag', fresh);
      await setMeta(db, 'version', fresh.replace(/^W\//, '').replace(/^"|"$/g, ''));
    }
    await setMeta(db, 'syncedAt', Date.now());
    return { status, changed: false };
  }
  await applyBundle(db, data, { fetchStartedAt });
  const newEtag = h?.get?.('ETag');
  await setMeta(db, 'etag', newEtag || null);
  return { status, changed: true };
}
