/**
 * The monitoring UI's build: static files in dist/, served by the API at `/`. `npm run dev -w
 * @sluice/ui` serves it with hot reload and proxies /api to the API (SLUICE_API_ORIGIN, default :4200).
 */
import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig } from "vite";

const apiOrigin = process.env.SLUICE_API_ORIGIN ?? "http://127.0.0.1:4200";

export default defineConfig({
  plugins: [react()],
  // @sluice/client and @sluice/core from their TypeScript sources, as the tests import them (not dist/).
  resolve: { conditions: [...defaultClientConditions, "sluice-source"] },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: { proxy: { "/api": { target: apiOrigin, changeOrigin: true } } },
});
