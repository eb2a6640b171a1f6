// The app's single device store, outbox and shared state (Vue reactive), and the background
// refresh of the bundle.
import { reactive } from 'vue';
import { liveQuery } from 'dexie';
import { onUnmounted, ref, watch } from 'vue';
import { openDb, getMeta } from './lib/db.js';
import { Outbox, SENT, FAILED } from './lib/outbox.js';
import { api, getToken, setToken, login as apiLogin, ApiError } from './lib/api.js';
import { refreshBundle } from './lib/bundle.js';
import { afterSent } from './lib/store.js';
import { wipeDevice } from './lib/session.js';

export let db = openDb();
// Opened at once, while Vue and the first screen are still being set up (not on first use).
db.open().then(
  () => performance.mark?.('gp:db-open'),
  (e) => console.error(e),
);

export const state = reactive({
  me: null,
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  refreshing: false,
  syncedAt: null,
  pending: 0,
  failed: 0,
  bundleError: '',
  authLost: false,
  unread: 0, // notifications not yet read (消息), from the server when there is signal
});

export const outbox = new Outbox({
  db,
  getToken,
  onChange: () => countOutbox(),
  onSent: async (rec) => {
    await afterSent(db, rec);
    refreshSoon();
  },
  onAuthError: () => {
    state.authLost = true;
  },
});

async function countOutbox() {
  const all = await db.outbox.toArray();
  state.pending = all.filter((r) => r.state !== SENT && r.state !== FAILED).length;
  state.failed = all.filter((r) => r.state === FAILED).length;
}

const ROLES = ['worker', 'leader', 'committee'];

export const isCommittee = () =>
  !!state.me && (state.me.can_approve || state.me.role === 'committee');

/** Refresh the working set in the background; quiet when offline. */
let refreshAgain = false;

export async function refresh({ quiet = true } = {}) {
  if (!getToken()) return;
  if (state.refreshing) {
    refreshAgain = true;
    return;
  }
  if (!navigator.onLine) {
    if (!quiet) throw new ApiError(0, null, '无网络，显示的是手机上保存的数据');
    return;
  }
  state.refreshing = true;
  try {
    await refreshBundle(db, api);
    refreshUnread();
    state.me = await getMeta(db, 'me');
    state.syncedAt = await getMeta(db, 'syncedAt');
    state.bundleError = '';
    state.authLost = false;
  } catch (e) {
    if (e.status === 401) state.authLost = true;
    state.bundleError = e.message;
    if (!quiet) throw e;
  } finally {
    state.refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      refreshSoon();
    }
  }
}

/** The count of unread notifications (the badge on 消息); quiet when it cannot be had. */
export async function refreshUnread() {
  if (!getToken() || !navigator.onLine) return;
  try {
    const { data } = await api('notifications/unread-count/');
    state.unread = data.unread;
  } catch {
    /* the badge keeps its last count */
  }
}

let timers = [];
let soon = null;

/** After records reach the server, fetch the working set again (once, a moment later). */
function refreshSoon() {
  clearTimeout(soon);
  soon = setTimeout(() => refresh(), 1500);
}

/** Start-up with a token: the outbox resumes (same keys), the bundle refreshes. */
export async function boot() {
  await db.open();
  state.me = await getMeta(db, 'me');
  state.syncedAt = await getMeta(db, 'syncedAt');
  await countOutbox();
  if (!getToken()) return;
  outbox.start();
  refresh();
  if (!timers.length) {
    const online = () => {
      state.online = true;
      refresh();
    };
    const offline = () => {
      state.online = false;
    };
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') {
        refresh();
        outbox.flush();
      }
    });
    timers.push(setInterval(() => refresh(), 4 * 60 * 1000));
    timers.push(setInterval(() => outbox.prune(), 60 * 60 * 1000));
  }
}

/**
 * Log in: token, then the bundle (a 403 there says this account may not use the app).
 * The same worker logging in again (an expired token) keeps what is still to send; another
 * account first wipes the device.
 */
export async function login(username, password) {
  const token = await apiLogin(username, password);
  await db.open();
  const previous = await getMeta(db, 'me');
  if (previous && previous.username !== username) await resetDevice();
  setToken(token);
  try {
    await refreshBundle(db, api);
  } catch (e) {
    setToken(null);
    if (e.status === 403) await resetDevice();
    throw e;
  }
  state.me = await getMeta(db, 'me');
  if (!state.me || !ROLES.includes(state.me.role)) {
    await resetDevice();
    throw new ApiError(403, null, '只有网格员、网格长和社区两委成员可以使用网格通');
  }
  state.syncedAt = await getMeta(db, 'syncedAt');
  state.authLost = false;
  await boot();
}

async function resetDevice() {
  outbox.stop();
  await wipeDevice(db);
  db = openDb();
  outbox.db = db;
  await db.open();
  Object.assign(state, { me: null, pending: 0, failed: 0, syncedAt: null, authLost: false, unread: 0 });
}

/** The token expired: log in again, keeping the device's data and outbox. */
export function relogin() {
  outbox.stop();
  setToken(null);
}

/**
 * 退出登录: the server deletes the token (when there is signal; a lost phone's token also
 * expires by itself), then the device forgets everything of this worker (store, outbox,
 * token, caches).
 */
export async function logout() {
  if (getToken() && navigator.onLine) {
    try {
      await api('auth/logout/', { method: 'POST' });
    } catch {
      /* offline or already expired: the device is wiped all the same */
    }
  }
  await resetDevice();
}

export const currentDb = () => db;

/** Run fn once the current frame is on the screen (not before the first paint). */
export function afterPaint(fn) {
  if (typeof requestAnimationFrame === 'undefined') return setTimeout(fn, 0);
  requestAnimationFrame(() => setTimeout(fn, 0));
}

/**
 * A Dexie live query as a Vue ref: re-runs when the tables it read change. With `defer`, the
 * first read waits until the screen as it stands has been painted.
 */
export function useLive(querier, initial = null, deps = null, { defer = false } = {}) {
  const result = ref(initial);
  let sub = null;
  let alive = true;
  const run = () => {
    if (!alive) return;
    sub?.unsubscribe();
    sub = liveQuery(() => querier(db)).subscribe({
      next: (v) => {
        result.value = v;
      },
      error: (e) => console.error(e),
    });
  };
  if (defer) afterPaint(run);
  else run();
  if (deps) watch(deps, run);
  onUnmounted(() => {
    alive = false;
    sub?.unsubscribe();
  });
  return result;
}
