// The device store (IndexedDB through Dexie): the worker's working set from the bundle, the
// rows the app added before the server saw them (optimistic, id "local:<outbox id>"), and the
// outbox. Plain module, no Vue: the unit tests open it on fake-indexeddb.
import Dexie from 'dexie';

export const DB_NAME = 'gridpoints-field';

// The bundle's tables: the key path of each (see notes/field-contract.md).
export const BUNDLE_TABLES = {
  grids: 'id',
  tags: 'id',
  households: 'id, grid',
  residents: 'id, household, card_number',
  due: 'resident, household',
  visits: 'id, household',
  needs: 'id, household',
  rules: 'id',
  cap_used: '[resident+rule], resident',
  claims_rejected: 'id',
};

export function openDb(name = DB_NAME) {
  const db = new Dexie(name);
  db.version(1).stores({
    meta: 'key',
    ...BUNDLE_TABLES,
    // Claims the worker made on this device and the server has not confirmed yet (cap).
    claims: 'id, resident',
    // The outbox: ++id is the order of the taps.
    outbox: '++id, state, dependsOn',
  });
  return db;
}

export async function getMeta(db, key, fallback = null) {
  const row = await db.meta.get(key);
  return row ? row.value : fallback;
}

export async function setMeta(db, key, value) {
  await db.meta.put({ key, value });
}

export const localId = (outboxId) => `local:${outboxId}`;
export const isLocalId = (id) => typeof id === 'string' && id.startsWith('local:');
