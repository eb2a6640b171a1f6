// Online requests (log in, the bundle, approvals, a need's timeline). Writes the worker makes
// in the field go through the outbox instead.
import { errorMessage } from './outbox.js';

export const API = '/api/v1';
const TOKEN_KEY = 'gp.token';

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, data, message) {
    super(message || errorMessage(status, data));
    this.status = status;
    this.data = data;
    this.offline = status === 0;
  }
}

/** fetch + token + JSON; throws ApiError (status 0 when there is no network). */
export async function api(path, { method = 'GET', body, headers = {}, idempotent = false } = {}) {
  const h = { Accept: 'application/json', ...headers };
  const token = getToken();
  if (token) h.Authorization = `Token ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (idempotent && method !== 'GET') h['Idempotency-Key'] = crypto.randomUUID();
  let response;
  try {
    response = await fetch(path.startsWith('/') ? path : `${API}/${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null, '无网络，请稍后再试');
  }
  if (response.status === 304) return { status: 304, data: null, headers: response.headers };
  let data = null;
  const text = await response.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return { status: response.status, data, headers: response.headers };
}

export async function login(username, password) {
  const { data } = await api(`${API}/auth/token/`, {
    method: 'POST',
    body: { username, password },
  });
  return data.token;
}
