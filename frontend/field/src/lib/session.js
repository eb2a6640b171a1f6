// Log out: nothing the app stored about the worker's area stays on the device.
import { DB_NAME } from './db.js';

// The service worker's precache (the app shell, no personal data) stays so the app opens.
const isShellCache = (name) => name.startsWith('workbox-precache');

export async function wipeDevice(db, { storage = globalThis.localStorage, cacheStorage = globalThis.caches } = {}) {
  if (db) {
    db.close();
    await db.delete();
  }
  try {
    storage?.clear();
  } catch {
    /* private mode */
  }
  try {
    sessionStorage?.clear?.();
  } catch {
    /* not in a browser */
  }
  if (cacheStorage?.keys) {
    for (const name of await cacheStorage.keys()) {
      if (!isShellCache(name)) await cacheStorage.delete(name);
    }
  }
  return DB_NAME;
}
