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
  const [reason, setReason] = useState<string | null>(null);
  // A 401 signs out only a console that was signed in (not a wrong key being tried).
  const signedIn = useRef(false);
  useEffect(() => {
    signedIn.current = info !== null;
  }, [info]);

  const signOut = useCallback((why?: string) => {
    session.signOut();
    setInfo(null);
    setReason(why ?? null);
  }, []);

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
  }, []);

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
  }, []);

  return (
    <AuthContext.Provider
      value={{ info, loading, reason, isAdmin: isAdminRole(info?.user.role), signIn, signOut, refresh }}
    >
      {children}
    </AuthContext.Provider>
  );
}
