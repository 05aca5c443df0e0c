/**
 * Optional bearer-token auth: with an API key configured, every API request (`/api/…`) but the
 * health check, and `/metrics`, needs `Authorization: Bearer <key>`, compared in constant time.
 * The UI's static files and the API docs are open: they hold no data, and the UI asks for the key.
 * `/api/events` also takes the key as `?api_key=`, because a browser's EventSource cannot send headers.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";

/** API paths answered without a key. */
const OPEN_API_PATHS = ["/api/health"];
/** The one path that accepts the key as a query parameter (Server-Sent Events). */
const QUERY_KEY_PATH = "/api/events";

function isOpen(path: string): boolean {
  if (OPEN_API_PATHS.includes(path)) return true;
  return !(path === "/api" || path.startsWith("/api/") || path === "/metrics");
}

/** The path of a URL no route matched, percent-decoded (kept as it is when it does not decode). */
function decodedPath(url: string): string {
  const path = url.split("?", 1)[0] ?? "";
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function queryKey(url: string): string | undefined {
  const query = url.split("?", 2)[1];
  return query === undefined ? undefined : (new URLSearchParams(query).get("api_key") ?? undefined);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Whether `header` carries `apiKey` as a bearer token (hashing first makes the comparison length-independent). */
export function hasBearerKey(header: string | undefined, apiKey: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? "");
  const presented = match?.[1]?.trim() ?? "";
  return timingSafeEqual(digest(presented), digest(apiKey)) && presented.length > 0;
}

export function installBearerAuth(app: FastifyInstance, apiKey: string): void {
  app.addHook("onRequest", async (request, reply) => {
    // The matched route, not the raw URL: "/%61pi/flows" is routed to /api/flows and needs the key too.
    // Unmatched paths and the UI's catch-all are judged by their decoded path.
    const route = request.routeOptions.url;
    const path = route === undefined || route.endsWith("*") ? decodedPath(request.url) : route;
    if (isOpen(path)) return;
    if (hasBearerKey(request.headers.authorization, apiKey)) return;
    const fromQuery = path === QUERY_KEY_PATH ? queryKey(request.url) : undefined;
    if (fromQuery !== undefined && hasBearerKey(`Bearer ${fromQuery}`, apiKey)) return;
    reply.header("www-authenticate", "Bearer");
    return reply
      .code(401)
      .send({ detail: "Unauthorized: this API needs an API key (header 'Authorization: Bearer <key>')" });
  });
}
