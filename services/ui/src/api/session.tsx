/**
 * The API session: the typed client (libs/client) on this origin's /api, with the API key the
 * user entered (kept in localStorage) when the server has SLUICE_API_KEY set. A 401 from any call
 * asks for the key again; logging out forgets it.
 */
import { ApiError, SluiceClient } from "@sluice/client";
import { useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";

const KEY_STORAGE = "sluice.apiKey";
export const API_BASE = "/api";

interface Session {
  client: SluiceClient;
  apiKey: string | null;
  /** Checks `key` against the server and keeps it; resolves with an error message when refused. */
  logIn(key: string): Promise<string | null>;
  logOut(): void;
}

const SessionContext = createContext<Session | null>(null);

function storedKey(): string | null {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function clientFor(apiKey: string | null): SluiceClient {
  return new SluiceClient({ apiUrl: API_BASE, apiKey: apiKey ?? undefined, timeoutMs: 60_000 });
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [apiKey, setApiKey] = useState<string | null>(storedKey);
  const client = useMemo(() => clientFor(apiKey), [apiKey]);

  const logIn = useCallback(
    async (key: string) => {
      try {
        await clientFor(key).request("GET", "/ui/settings");
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          return "The server refused this API key (401). Use the value of SLUICE_API_KEY the server was started with.";
        }
        return `Could not check the key: ${(error as Error).message}`;
      }
      localStorage.setItem(KEY_STORAGE, key);
      setApiKey(key);
      queryClient.clear();
      return null;
    },
    [queryClient],
  );

  const logOut = useCallback(() => {
    localStorage.removeItem(KEY_STORAGE);
    setApiKey(null);
    queryClient.clear();
  }, [queryClient]);

  const session = useMemo(() => ({ client, apiKey, logIn, logOut }), [client, apiKey, logIn, logOut]);
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession() outside <SessionProvider>");
  return session;
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}
