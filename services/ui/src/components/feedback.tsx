/** Loading, error and empty states: every page says what is happening, never shows a blank screen. */
import { ApiError } from "@sluice/client";
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const detail =
      typeof error.detail === "string"
        ? error.detail
        : Array.isArray(error.detail)
          ? error.detail.map((item: { msg?: string }) => item.msg ?? JSON.stringify(item)).join("; ")
          : JSON.stringify(error.detail);
    return `The API answered ${error.status}: ${detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorMessage({ error, title = "Something went wrong" }: { error: unknown; title?: string }) {
  return (
    <div className="notice notice-error" role="alert">
      <strong>{title}</strong>
      <p>{describeError(error)}</p>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="notice notice-empty">{children}</div>;
}

/** Renders a query's data, or its loading state, or its error. */
export function QueryView<T>({
  query,
  what,
  children,
}: {
  query: UseQueryResult<T>;
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading what={what} />;
  if (query.isError) return <ErrorMessage error={query.error} title={`Could not load ${what}`} />;
  return <>{children(query.data)}</>;
}
