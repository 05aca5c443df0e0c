/** /api/health (always open, even with an API key) and /api/version. */
import type { ZodApp } from "../context.js";

export const API_VERSION = "0.1.0";

export function healthRoutes(app: ZodApp): void {
  app.get("/health", { schema: { tags: ["Root"], summary: "Health check" } }, async () => true);
  app.get("/version", { schema: { tags: ["Root"], summary: "Server version" } }, async (_request, reply) =>
    reply.type("application/json").send(JSON.stringify(API_VERSION)),
  );
}
