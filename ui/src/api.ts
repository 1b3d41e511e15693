// The Hub's API as the console uses it: one fetch wrapper (Bearer key from the session, or the
// Blocklet `login_token` cookie), the Hub's one error shape turned into ApiError, and the
// shapes of the answers the pages read.

import { under } from './base';

export class ApiError extends Error {
  constructor(
    message: string,
    public status: number,
    public type?: string,
    public link?: string,
  ) {
    super(message);
  }
}

const KEY = 'aigne-hub.key';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (key: string) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** Called when the Hub answers 401 to a signed-in console (key expired or revoked). */
let onUnauthorized: (message: string) => void = () => {};
export function setUnauthorizedHandler(f: (message: string) => void) {
  onUnauthorized = f;
}

export function authHeaders(): Record<string, string> {
  const key = session.key();
  return key ? { authorization: `Bearer ${key}` } : {};
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(under(path), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data?.error;
    const message = e?.message ?? `${res.status} ${res.statusText}`;
    if (res.status === 401) onUnauthorized(message);
    throw new ApiError(message, res.status, e?.type, e?.link);
  }
  return data as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body: unknown) => request<T>('POST', path, body);
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
export const del = <T>(path: string) => request<T>('DELETE', path);

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Every item of a paged list (pages of 100 until `count` is reached). */
export async function getAll<T>(path: string, params: Record<string, string | number | boolean | undefined | null> = {}): Promise<List<T>> {
  const list: T[] = [];
  for (let page = 1; ; page += 1) {
    const got = await get<List<T>>(`${path}${query({ ...params, page, pageSize: 100 })}`);
    list.push(...got.list);
    if (got.list.length === 0 || list.length >= got.count) {
      return { ...got, list, count: Math.max(got.count, list.length), paging: { page: 1, pageSize: list.length } };
    }
  }
}

/** The names the Hub accepts (`GET /api/enums`): the one source for every list of them. */
export interface Enums {
  callTypes: string[];
  callStatuses: string[];
  providers: { name: string; displayName: string; defaultBaseUrl: string }[];
  keyRoles: string[];
}

let enums: Promise<Enums> | null = null;
export function getEnums(): Promise<Enums> {
  enums ??= get<Enums>('/api/enums').catch((e) => {
    enums = null;
    throw e;
  });
  return enums;
}

export interface List<T> {
  count: number;
  list: T[];
  paging: { page: number; pageSize: number };
  countCapped?: boolean;
}

export interface UserInfo {
  user: {
    did: string;
    role: string;
    name?: string | null;
    fullName?: string | null;
    email?: string | null;
    avatar?: string | null;
  };
  creditBalance: Balance | null;
  enableCredit: boolean;
  paymentLink: string;
  profileLink?: string;
  creditPrefix?: string;
}

export interface Balance {
  balance: string;
  total?: string;
  grantCount?: number;
  granted?: string;
  debt?: string;
  /** As the real Hub: credits owed beyond the grants. */
  pendingCredit?: string;
  /** Held by running calls. */
  held?: string;
  available?: string;
}

export interface Credential {
  id: string;
  name: string;
  maskedValue: string;
  credentialType: string;
  active: boolean;
  error?: string | null;
  weight: number;
  usageCount: number;
  lastUsedAt?: string | null;
}

export interface Provider {
  id: string;
  name: string;
  displayName: string;
  baseUrl?: string | null;
  region?: string | null;
  enabled: boolean;
  credentials?: Credential[];
}

export interface Rate {
  id: string;
  providerId: string;
  model: string;
  modelDisplay?: string | null;
  type: string;
  inputRate: string;
  outputRate: string;
  unitCosts?: { input?: string; output?: string } | null;
  deprecated?: boolean;
}

export interface ModelAlias {
  id: string;
  pattern: string;
  kind: 'exact' | 'glob';
  target: string;
}

export interface Call {
  id: string;
  providerId?: string | null;
  model: string;
  type: string;
  status: string;
  totalUsage: number;
  credits: string;
  durationMs?: number | null;
  ttfbMs?: number | null;
  errorReason?: string | null;
  appDid?: string | null;
  userDid?: string | null;
  callTime: string;
  usageMetrics?: Record<string, number> | null;
  metadata?: Record<string, unknown> | null;
  requestId?: string | null;
  /** The client dialect the call came in on: openai, aigne, anthropic or v1. */
  dialect?: string | null;
}

export interface AccessKey {
  id: string;
  prefix?: string;
  name: string;
  role: string;
  userDid: string;
  createdAt: string;
  lastUsedAt?: string | null;
  expiresAt?: string | null;
  revoked?: boolean;
}

export interface Transaction {
  id: string;
  kind?: string;
  amount?: string;
  credit_amount?: string;
  calls?: number;
  description?: string | null;
  createdAt?: string;
  created_at?: string;
}

/** A model of the public list (`GET /api/ai/models`). */
export interface PublicModel {
  key: string;
  model: string;
  provider: string;
  providerDisplayName?: string;
  type: string;
  input_credits_per_token?: string | null;
  output_credits_per_token?: string | null;
  status?: { available: boolean } | null;
}
