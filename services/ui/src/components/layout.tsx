/** The page frame: navigation, the live indicator, log out when a key is in use. */
import { NavLink, Outlet } from "react-router";
import { useSession } from "../api/session";

const LINKS = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/flow-runs", label: "Flow runs" },
  { to: "/flows", label: "Flows" },
  { to: "/deployments", label: "Deployments" },
  { to: "/work-pools", label: "Work pools" },
  { to: "/concurrency-limits", label: "Concurrency limits" },
];

export function Layout() {
  const { apiKey, logOut } = useSession();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Sluice</span>
        <nav aria-label="Main">
          <ul>
            {LINKS.map((link) => (
              <li key={link.to}>
                <NavLink to={link.to} end={link.end}>
                  {link.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        {apiKey ? (
          <button type="button" className="secondary" onClick={logOut}>
            Log out
          </button>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

export function LiveIndicator({ status }: { status: "connecting" | "live" | "reconnecting" }) {
  const label = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span className={`live live-${status}`} role="status" aria-live="polite">
      {label}
    </span>
  );
}
