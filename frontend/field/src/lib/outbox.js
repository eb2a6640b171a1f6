// The outbox: every write the worker makes goes here first, with the Idempotency-Key made at
// the tap, and is sent in order when there is a network. Plain module (no Vue), unit-tested
// with fake-indexeddb and a fake fetch (tests/outbox.test.js).
//
// A record: {id, key, kind, method, url, body, blob?, filename?, dependsOn?, parentPath?,
//            label, state, attempts, nextAttemptAt, lastError, status, result, createdAt, sentAt}
// States: pending (待同步) → sending → sent (已同步) | failed (同步失败, with the server's words).
// - Network errors, 5xx and 429 are retried with exponential backoff and jitter, always with
//   the record's own key: the server answers a repeated key with the first result, so a send
//   whose answer was lost (a dropped connection, a reload, a killed tab) creates nothing twice.
// - 400/403/404/409 (any other 4xx) are never retried by themselves: the record fails with the
//   message from the JSON body, and the worker edits and resends it, or discards it.
// - Records carry a lane (the household or the need they are about): a lane is sent strictly
//   in order; up to `concurrency` lanes are on their way at once.
// - A record with dependsOn (a photo of a need found on a visit) waits until its parent is
//   sent; its url's "{parent}" is then filled in from the parent's answer (parentPath).

export const PENDING = 'pending';
export const SENDING = 'sending';
export const SENT = 'sent';
export const FAILED = 'failed';

export const STATE_LABELS = {
  [PENDING]: '待同步',
  [SENDING]: '待同步',
  [SENT]: '已同步',
  [FAILED]: '同步失败',
};

const FIELD_LABELS = {
  title: '标题',
  text: '内容',
  category: '类别',
  points: '积分',
  rule: '规则',
  resident: '居民',
  household: '户',
  method: '方式',
  notes: '走访情况',
  follow_up_on: '回访日期',
  visited_at: '走访时间',
  image: '照片',
  occurred_on: '日期',
  note: '备注',
  resolution: '办结说明',
  reason: '理由',
  needs: '需求',
  grid: '网格',
};

/** The server's own words from an error body: {detail}, {field: [msg]}, nested lists. */
export function errorMessage(status, data) {
  const parts = [];
  const walk = (value, field) => {
    if (value == null) return;
    if (typeof value === 'string') {
      const label = field && field !== 'detail' && field !== 'non_field_errors'
        ? FIELD_LABELS[field] || field
        : '';
      parts.push(label ? `${label}: ${value}` : value);
    } else if (Array.isArray(value)) {
      value.forEach((v) => walk(v, field));
    } else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, /^\d+$/.test(k) ? field : k);
    }
  };
  walk(data, null);
  const text = [...new Set(parts)].join('；');
  return text || `服务器返回 ${status}`;
}

function dig(obj, path) {
  return String(path || 'id')
    .split('.')
    .reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

export function backoffDelay(attempts, { baseDelay, maxDelay, random }) {
  const full = Math.min(maxDelay, baseDelay * 2 ** Math.max(0, attempts - 1));
  // "Equal jitter": half fixed, half random, so phones that lost the network together do not
  // all come back in the same second.
  return Math.round(full / 2 + random() * (full / 2));
}

export class Outbox {
  constructor({
    db,
    fetch: fetchImpl = (...a) => globalThis.fetch(...a),
    getToken = () => null,
    isOnline = () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
    now = () => Date.now(),
    random = Math.random,
    uuid = () => globalThis.crypto.randomUUID(),
    onChange = () => {},
    onSent = async () => {},
    onAuthError = () => {},
    baseDelay = 2000,
    maxDelay = 5 * 60 * 1000,
    maxServerAttempts = 8,
    timeoutMs = 45000,
    concurrency = 4,
  }) {
    Object.assign(this, {
      db,
      fetchImpl,
      getToken,
      isOnline,
      now,
      random,
      uuid,
      onChange,
      onSent,
      onAuthError,
      baseDelay,
      maxDelay,
      maxServerAttempts,
      timeoutMs,
      concurrency,
    });
    this.running = null;
    this.again = false;
    this.timer = null;
    this.wakeTimer = null;
  }

  get table() {
    return this.db.outbox;
  }

  /** Queue one write; the key is made now, at the tap, and kept for every resend. */
  async enqueue(input) {
    const record = {
      key: input.key || this.uuid(),
      kind: input.kind,
      method: input.method || 'POST',
      url: input.url,
      body: input.body ?? null,
      blob: input.blob ?? null,
      filename: input.filename ?? null,
      dependsOn: input.dependsOn ?? null,
      parentPath: input.parentPath ?? null,
      // Records of one lane are sent one after the other, in order; lanes go side by side.
      lane: input.lane || 'main',
      label: input.label || '',
      meta: input.meta || {},
      state: PENDING,
      attempts: 0,
      nextAttemptAt: 0,
      lastError: null,
      status: null,
      result: null,
      createdAt: this.now(),
      sentAt: null,
    };
    record.id = await this.table.add(record);
    this.onChange();
    if (this.started && !input.hold) this.flush();
    return record;
  }

  /** At start-up: a record left "sending" (reload, killed tab) goes back to pending, same key. */
  async recover() {
    const stuck = await this.table.where('state').equals(SENDING).toArray();
    for (const r of stuck) await this.table.update(r.id, { state: PENDING, nextAttemptAt: 0 });
    if (stuck.length) this.onChange();
    return stuck.length;
  }

  async list() {
    return this.table.orderBy('id').toArray();
  }

  async counts() {
    const all = await this.table.toArray();
    const c = { pending: 0, sent: 0, failed: 0 };
    for (const r of all) {
      if (r.state === SENT) c.sent += 1;
      else if (r.state === FAILED) c.failed += 1;
      else c.pending += 1;
    }
    return c;
  }

  /** Send what can be sent, in order. One pass at a time; a call during a pass runs another. */
  flush() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this._pass();
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /**
   * One pass: up to `concurrency` records on their way at once, one per lane. Records of a lane
   * (a household, a need) go strictly in the order they were made; different lanes do not wait
   * for each other, so a day of work reaches the server in a few round trips even on a slow
   * line. A network error (or 401) stops the pass: the network is gone.
   */
  async _pass() {
    if (!this.isOnline()) return;
    let progress = true;
    while (progress) {
      progress = false;
      const busy = new Set();
      const tried = new Set(); // a record goes at most once per pass
      let stop = false;
      let picking = Promise.resolve();
      const pick = () => {
        const choice = picking.then(() => (stop ? null : this._pick(busy, tried)));
        picking = choice.catch(() => null);
        return choice;
      };
      const worker = async () => {
        while (!stop) {
          const next = await pick();
          if (!next) return;
          tried.add(next.rec.id);
          const outcome = await this._send(next.rec, next.parent);
          busy.delete(next.lane);
          if (outcome === 'stop') stop = true;
          else progress = true;
        }
      };
      await Promise.all(Array.from({ length: this.concurrency }, worker));
      if (stop || !this.isOnline()) return;
    }
  }

  /** The next record that may go: the first waiting one of a lane not already on its way. */
  async _pick(busy, tried = new Set()) {
    const queue = (await this.table.where('state').equals(PENDING).toArray()).sort(
      (a, b) => a.id - b.id,
    );
    const blocked = new Set(busy);
    for (const rec of queue) {
      const lane = rec.lane || 'main';
      if (blocked.has(lane)) continue;
      if (tried.has(rec.id)) {
        blocked.add(lane); // tried in this pass and still waiting: its lane waits too
        continue;
      }
      let parent = null;
      if (rec.dependsOn != null) {
        parent = await this.table.get(rec.dependsOn);
        if (!parent) {
          await this._fail(rec, null, '所属记录已删除');
          continue;
        }
        // Waits for a parent that failed without holding up the rest of its lane.
        if (parent.state === FAILED) continue;
        if (parent.state !== SENT) {
          blocked.add(lane);
          continue;
        }
      }
      blocked.add(lane);
      if (rec.nextAttemptAt > this.now()) {
        this._wakeAt(rec.nextAttemptAt);
        continue; // its lane waits for this one's retry; other lanes go on
      }
      busy.add(lane);
      // Taken now, before the next pick looks at the queue.
      await this.table.update(rec.id, { state: SENDING });
      return { rec, parent, lane };
    }
    return null;
  }

  _buildRequest(rec, parent) {
    let url = rec.url;
    if (parent) {
      const parentId = dig(parent.result, rec.parentPath);
      url = url.replace('{parent}', String(parentId));
    }
    const headers = { 'Idempotency-Key': rec.key, Accept: 'application/json' };
    const token = this.getToken();
    if (token) headers.Authorization = `Token ${token}`;
    let body;
    if (rec.blob) {
      body = new FormData();
      for (const [k, v] of Object.entries(rec.body || {})) body.append(k, v);
      // A fixed file name: the server's fingerprint of a resend is the same.
      body.append('image', rec.blob, rec.filename || `photo-${rec.id}.jpg`);
    } else if (rec.body != null) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(rec.body);
    }
    return { url, init: { method: rec.method, headers, body } };
  }

  async _send(rec, parent) {
    await this.table.update(rec.id, { state: SENDING });
    this.onChange();
    const { url, init } = this._buildRequest(rec, parent);
    const controller = typeof AbortController !== 'undefined' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), this.timeoutMs) : null;
    let response;
    try {
      response = await this.fetchImpl(url, { ...init, signal: controller?.signal });
    } catch (err) {
      if (timer) clearTimeout(timer);
      await this._retryLater(rec, '网络中断，稍后自动重发');
      return 'stop';
    }
    if (timer) clearTimeout(timer);
    let data = null;
    try {
      const text = await response.text();
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    const status = response.status;
    if (status >= 200 && status < 300) {
      const sent = {
        state: SENT,
        status,
        result: data,
        lastError: null,
        sentAt: this.now(),
        attempts: rec.attempts + 1,
        replayed: response.headers?.get?.('Idempotent-Replayed') === 'true',
        // The photo is on the server now: free the phone's storage.
        ...(rec.blob ? { blob: null, blobSize: rec.blob.size } : {}),
      };
      await this.table.update(rec.id, sent);
      try {
        await this.onSent({ ...rec, ...sent });
      } catch (e) {
        // The local store's bookkeeping must not undo a send.
        console.error(e);
      }
      this.onChange();
      return 'next';
    }
    if (status === 401) {
      await this.table.update(rec.id, {
        state: PENDING,
        status,
        lastError: '登录已失效，请重新登录后自动发送',
      });
      this.onChange();
      this.onAuthError();
      return 'stop';
    }
    if (status === 429 || status >= 500) {
      const message = errorMessage(status, data);
      if (status >= 500 && rec.attempts + 1 >= this.maxServerAttempts) {
        await this._fail(rec, status, message, rec.attempts + 1);
        return 'next';
      }
      const retryAfter = Number(response.headers?.get?.('Retry-After'));
      await this._retryLater(
        rec,
        `服务器暂时无法处理 (${status})，稍后自动重发`,
        status,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
      );
      return 'stop';
    }
    await this._fail(rec, status, errorMessage(status, data), rec.attempts + 1);
    return 'next';
  }

  async _retryLater(rec, message, status = null, minDelay = null) {
    const attempts = rec.attempts + 1;
    let delay = backoffDelay(attempts, this);
    if (minDelay) delay = Math.max(delay, minDelay);
    const nextAttemptAt = this.now() + delay;
    await this.table.update(rec.id, {
      state: PENDING,
      attempts,
      nextAttemptAt,
      lastError: message,
      status,
    });
    this.onChange();
    this._wakeAt(nextAttemptAt);
  }

  async _fail(rec, status, message, attempts = rec.attempts) {
    await this.table.update(rec.id, { state: FAILED, status, lastError: message, attempts });
    this.onChange();
  }

  _wakeAt(at) {
    if (!this.started) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.flush(), Math.max(0, at - this.now()) + 50);
  }

  /** "立即同步": what waits for a backoff goes now (failed records stay failed). */
  async sendNow() {
    const waiting = await this.table.where('state').equals(PENDING).toArray();
    for (const r of waiting) {
      if (r.nextAttemptAt) await this.table.update(r.id, { nextAttemptAt: 0 });
    }
    return this.flush();
  }

  /** Send again now (a failed record the worker looked at, or "retry now"). Same key. */
  async retry(id) {
    const rec = await this.table.get(id);
    if (!rec || rec.state === SENT) return;
    await this.table.update(id, { state: PENDING, nextAttemptAt: 0, attempts: 0 });
    this.onChange();
    return this.flush();
  }

  /** Edit a failed (or waiting) record's body and send it again. */
  async edit(id, changes) {
    const rec = await this.table.get(id);
    if (!rec || rec.state === SENT || rec.state === SENDING) {
      throw new Error('这条记录已发送，不能修改');
    }
    // A refused request is not remembered by the server, so the same key is free for the
    // corrected body.
    await this.table.update(id, {
      ...changes,
      state: PENDING,
      attempts: 0,
      nextAttemptAt: 0,
      lastError: null,
      status: null,
    });
    this.onChange();
    return this.flush();
  }

  /** Drop a record that was not sent, and the records that wait for it (its photos). */
  async discard(id) {
    const rec = await this.table.get(id);
    if (!rec) return [];
    if (rec.state === SENDING) throw new Error('正在发送，稍后再试');
    const gone = [id];
    const children = await this.table.where('dependsOn').equals(id).toArray();
    for (const child of children) {
      if (child.state !== SENT) gone.push(...(await this.discard(child.id)));
    }
    await this.table.delete(id);
    this.onChange();
    return gone;
  }

  /** Records this one waits for, or that wait for it. */
  async dependents(id) {
    return this.table.where('dependsOn').equals(id).toArray();
  }

  /** Forget sent records older than maxAge (they stay listed as 已同步 until then). */
  async prune(maxAge = 3 * 24 * 3600 * 1000) {
    const cutoff = this.now() - maxAge;
    const old = await this.table
      .where('state')
      .equals(SENT)
      .filter((r) => (r.sentAt || 0) < cutoff)
      .toArray();
    const ids = [];
    for (const r of old) {
      const waiting = await this.table
        .where('dependsOn')
        .equals(r.id)
        .filter((c) => c.state !== SENT)
        .count();
      if (!waiting) ids.push(r.id);
    }
    await this.table.bulkDelete(ids);
    return ids.length;
  }

  /** In the browser: send on start, when the network comes back, and every intervalMs. */
  start({ target = globalThis, intervalMs = 20000 } = {}) {
    if (this.started) return;
    this.started = true;
    // The network is back: whatever was waiting for a backoff goes now.
    this._online = () => this.sendNow();
    target.addEventListener?.('online', this._online);
    this.timer = setInterval(() => this.flush(), intervalMs);
    return this.recover().then(() => this.flush());
  }

  stop({ target = globalThis } = {}) {
    this.started = false;
    target.removeEventListener?.('online', this._online);
    clearInterval(this.timer);
    clearTimeout(this.wakeTimer);
  }
}
