/** Entry point: TanStack Query (a 401 anywhere brings back the key prompt), the session, the app. */
import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { isUnauthorized, SessionProvider } from "./api/session";
import { App } from "./app";
import "./styles.css";

const queryClient: QueryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => !isUnauthorized(error) && count < 1,
    },
  },
  queryCache: new QueryCache({
    // The key changed on the server: re-check it, which shows the login form.
    onError: (error, query) => {
      if (isUnauthorized(error) && query.queryKey[0] !== "ui-settings") {
        void queryClient.invalidateQueries({ queryKey: ["ui-settings"] });
      }
    },
  }),
});

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <App />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
