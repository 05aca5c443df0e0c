/**
 * CLIENT spans for `fetch()` (Node's built-in undici), which the http instrumentation does not see:
 * undici announces each request on diagnostics channels; a request made inside a span (a task's
 * `fetch(url)`) gets a child span and carries the trace context (`traceparent`) to the server.
 * Requests made outside any span (worker heartbeats) are left alone.
 */
import diagnosticsChannel from "node:diagnostics_channel";
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { isTracingSuppressed } from "@opentelemetry/core";

/** The parts of undici's request object the channels hand over. */
interface UndiciRequest {
  origin: string | URL;
  method: string;
  path: string;
  addHeader(name: string, value: string): unknown;
}

/** Subscribes to undici's channels; returns the unsubscribe. */
export function instrumentFetch(): () => void {
  const tracer = trace.getTracer("sluice-fetch");
  const spans = new WeakMap<UndiciRequest, Span>();
  const end = (request: UndiciRequest, error?: unknown) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    span.end();
  };
  const handlers: Record<string, (message: unknown) => void> = {
    "undici:request:create": (message) => {
      const { request } = message as { request: UndiciRequest };
      const active = context.active();
      if (!trace.getSpan(active) || isTracingSuppressed(active)) return;
      let url: URL;
      try {
        url = new URL(request.path, request.origin);
      } catch {
        return;
      }
      const span = tracer.startSpan(
        request.method,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "http.request.method": request.method,
            "url.full": `${url.origin}${url.pathname}`,
            "server.address": url.hostname,
            "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)),
          },
        },
        active,
      );
      spans.set(request, span);
      propagation.inject(trace.setSpan(active, span), request, {
        set: (carrier, key, value) => {
          carrier.addHeader(key, value);
        },
      });
    },
    "undici:request:headers": (message) => {
      const { request, response } = message as { request: UndiciRequest; response: { statusCode: number } };
      const span = spans.get(request);
      if (!span) return;
      span.setAttribute("http.response.status_code", response.statusCode);
      if (response.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    },
    "undici:request:trailers": (message) => end((message as { request: UndiciRequest }).request),
    "undici:request:error": (message) => {
      const { request, error } = message as { request: UndiciRequest; error: unknown };
      end(request, error);
    },
  };
  for (const [name, handler] of Object.entries(handlers)) diagnosticsChannel.subscribe(name, handler);
  return () => {
    for (const [name, handler] of Object.entries(handlers)) diagnosticsChannel.unsubscribe(name, handler);
  };
}
