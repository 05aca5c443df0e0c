/**
 * Optional bearer-token auth: with an API key configured, every request but the health check and
 * the API docs needs `Authorization: Bearer <key>`, compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";

/** Paths answered without a key (exact, or a prefix when ending with "/"). */
const OPEN_PATHS = ["/api/health", "/openapi.json", "/docs", "/docs/"];

function isOpen(path: string): boolean {
  return OPEN_PATHS.some((open) => (open.endsWith("/") ? path.startsWith(open) : path === open));
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
    const path = request.url.split("?", 1)[0] ?? "";
    if (isOpen(path)) return;
    if (hasBearerKey(request.headers.authorization, apiKey)) return;
    reply.header("www-authenticate", "Bearer");
    return reply
      .code(401)
      .send({ detail: "Unauthorized: this API needs an API key (header 'Authorization: Bearer <key>')" });
  });
}
