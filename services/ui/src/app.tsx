/** The routes, behind the API-key gate. */
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { createBrowserRouter, RouterProvider } from "react-router";
import { isUnauthorized, useSession } from "./api/session";
import { ErrorMessage, Loading } from "./components/feedback";
import { Layout } from "./components/layout";
import { ConcurrencyLimitsPage } from "./pages/concurrency-limits";
import { DeploymentPage } from "./pages/deployment";
import { DeploymentsPage } from "./pages/deployments";
import { FlowRunPage } from "./pages/flow-run";
import { FlowRunsPage } from "./pages/flow-runs";
import { FlowsPage } from "./pages/flows";
import { LoginPage } from "./pages/login";
import { NotFoundPage } from "./pages/not-found";
import { TaskRunPage } from "./pages/task-run";
import { WorkPoolsPage } from "./pages/work-pools";

// The chart library is most of the bundle: loaded with the dashboard, not before every page.
const DashboardPage = lazy(() => import("./pages/dashboard").then((module) => ({ default: module.DashboardPage })));

const router = createBrowserRouter([
  {
    path: "/",
    element: <Layout />,
    children: [
      {
        index: true,
        element: (
          <Suspense fallback={<Loading what="the dashboard" />}>
            <DashboardPage />
          </Suspense>
        ),
      },
      { path: "flow-runs", element: <FlowRunsPage /> },
      { path: "flow-runs/:id", element: <FlowRunPage /> },
      { path: "task-runs/:id", element: <TaskRunPage /> },
      { path: "flows", element: <FlowsPage /> },
      { path: "deployments", element: <DeploymentsPage /> },
      { path: "deployments/:id", element: <DeploymentPage /> },
      { path: "work-pools", element: <WorkPoolsPage /> },
      { path: "concurrency-limits", element: <ConcurrencyLimitsPage /> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);

export interface UiSettings {
  trace_ui_url: string | null;
}

export function useUiSettings() {
  const { client, apiKey } = useSession();
  return useQuery({
    queryKey: ["ui-settings", apiKey],
    queryFn: () => client.request<UiSettings>("GET", "/ui/settings"),
    staleTime: Number.POSITIVE_INFINITY,
    retry: (count, error) => !isUnauthorized(error) && count < 2,
  });
}

export function App() {
  const { apiKey } = useSession();
  const settings = useUiSettings();
  if (settings.isPending) return <Loading what="Sluice" />;
  if (settings.isError) {
    if (isUnauthorized(settings.error)) return <LoginPage refused={apiKey !== null} />;
    return (
      <main id="main">
        <ErrorMessage error={settings.error} title="Cannot reach the Sluice API" />
        <p>Start it with `npx sluice server start`, then reload this page.</p>
      </main>
    );
  }
  return <RouterProvider router={router} />;
}
