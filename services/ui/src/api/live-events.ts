/**
 * Live updates: one EventSource on GET /api/events (Server-Sent Events fed from the run event
 * stream), optionally narrowed to a flow run. Each batch of events refreshes the queries it
 * concerns, once the server has recorded them; nothing polls.
 */
import type { ApiFeedEvent } from "@sluice/client";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { API_BASE, useSession } from "./session";

export type LiveStatus = "connecting" | "live" | "reconnecting";

export function eventsUrl(flowRunId: string | undefined, apiKey: string | null): string {
  const params = new URLSearchParams();
  if (flowRunId) params.set("flow_run_id", flowRunId);
  if (apiKey) params.set("api_key", apiKey);
  const query = params.toString();
  return `${API_BASE}/events${query ? `?${query}` : ""}`;
}

/**
 * Calls `onEvents` with each batch (coalesced over `coalesceMs`, so a burst of task states
 * refreshes once). Returns the connection status for the "Live" indicator.
 */
export function useRunEvents(
  flowRunId: string | undefined,
  onEvents: (events: ApiFeedEvent[]) => void,
  coalesceMs = 150,
): LiveStatus {
  const { apiKey } = useSession();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const handler = useRef(onEvents);
  handler.current = onEvents;

  useEffect(() => {
    const source = new EventSource(eventsUrl(flowRunId, apiKey));
    let pending: ApiFeedEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    // "ready": the server's feed starts now; refetch what the page read before it, which may be older.
    source.addEventListener("ready", () => {
      setStatus("live");
      handler.current([]);
    });
    source.onerror = () => setStatus("reconnecting"); // EventSource reconnects by itself
    source.onmessage = (message) => {
      pending.push(...(JSON.parse(message.data) as ApiFeedEvent[]));
      timer ??= setTimeout(() => {
        timer = null;
        const batch = pending;
        pending = [];
        handler.current(batch);
      }, coalesceMs);
    };
    return () => {
      source.close();
      if (timer) clearTimeout(timer);
    };
  }, [flowRunId, apiKey, coalesceMs]);
  return status;
}

/**
 * Refreshes every query whose key starts with one of `prefixes` when events arrive (at most once a
 * second for the feed of every run, which is busy on a busy server).
 */
export function useLiveInvalidation(
  flowRunId: string | undefined,
  prefixes: readonly (readonly unknown[])[],
  coalesceMs = flowRunId ? 150 : 1000,
) {
  const queryClient = useQueryClient();
  return useRunEvents(
    flowRunId,
    () => {
      for (const queryKey of prefixes) void queryClient.invalidateQueries({ queryKey });
    },
    coalesceMs,
  );
}
