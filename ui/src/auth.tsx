import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';

import { ApiError, get, session, setUnauthorizedHandler, type UserInfo } from './api';

interface Auth {
  info: UserInfo | null;
  loading: boolean;
  /** Why the user was sent back to sign-in (expired or revoked key), if so. */
  reason: string | null;
  isAdmin: boolean;
  signIn: (key: string) => Promise<void>;
  signOut: (reason?: string) => void;
  refresh: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);
const REASON = 'aigne-hub.signed-out-reason';

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}

export const isAdminRole = (role?: string) => role === 'owner' || role === 'admin';

/** Who is signed in: an access key kept in this browser session, or (Blocklet) the login cookie. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [info, setInfo] = useState<UserInfo | null>(null);
  const [loading, setLoading] = useState(true);
  // Kept for the browser session, so a reload still tells why the user was signed out.
  const [reason, setReasonState] = useState<string | null>(() => sessionStorage.getItem(REASON));
  const setReason = useCallback((why: string | null) => {
    if (why) sessionStorage.setItem(REASON, why);
    else sessionStorage.removeItem(REASON);
    setReasonState(why);
  }, []);
  // A 401 signs out only a console that was signed in (not a wrong key being tried).
  const signedIn = useRef(false);
  useEffect(() => {
    signedIn.current = info !== null;
  }, [info]);

  const signOut = useCallback((why?: string) => {
    session.signOut();
    setInfo(null);
    setReason(why ?? null);
  }, [setReason]);

  const refresh = useCallback(async () => {
    try {
      setInfo(await get<UserInfo>('/api/user/info'));
    } catch (e) {
      setInfo(null);
      if (e instanceof ApiError && e.status === 401 && session.key()) {
        session.signOut();
        setReason(`Signed out: ${e.message}`);
      }
    }
  }, [setReason]);

  useEffect(() => {
    setUnauthorizedHandler((message) => {
      if (signedIn.current) signOut(session.key() ? `Signed out: ${message}` : undefined);
    });
    refresh().finally(() => setLoading(false));
  }, [refresh, signOut]);

  const signIn = useCallback(async (key: string) => {
    session.signIn(key);
    try {
      const me = await get<UserInfo>('/api/user/info');
      setReason(null);
      setInfo(me);
    } catch (e) {
      session.signOut();
      throw e;
    }
  }, [setReason]);

  return (
    <AuthContext.Provider
      value={{ info, loading, reason, isAdmin: isAdminRole(info?.user.role), signIn, signOut, refresh }}
    >
      {children}
    </AuthContext.Provider>
  );
}
