/**
 * Sluice homes for embedded-mode tests: a fresh temp directory per test, holding a copy of an
 * embedded database the global setup created and migrated once (PGlite's initdb takes seconds; a
 * copy takes milliseconds), or nothing at all for tests of the first start.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedDataDir, openEmbeddedDatabase } from "@sluice/db";
import { inject } from "vitest";
import "./provided.js";

export interface EmbeddedHome {
  /** Use as SLUICE_HOME. */
  home: string;
  /** Deletes the directory. Safe to call twice. */
  close(): void;
}

/** A new SLUICE_HOME: empty (`fresh: true`, as on a new machine) or with a migrated database already in it. */
export function createEmbeddedHome(options: { fresh?: boolean } = {}): EmbeddedHome {
  const home = mkdtempSync(join(tmpdir(), "sluice-home-"));
  if (!options.fresh) {
    const template = inject("sluiceEmbeddedTemplate");
    if (!template)
      throw new Error("createEmbeddedHome() needs libs/testing/src/global-setup.ts as vitest's globalSetup");
    cpSync(template, embeddedDataDir(home), { recursive: true });
  }
  return { home, close: () => rmSync(home, { recursive: true, force: true, maxRetries: 3 }) };
}

/** Creates and migrates the embedded database every test home is copied from (global setup). */
export async function createEmbeddedTemplate(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-embedded-tpl-"));
  try {
    const database = await openEmbeddedDatabase(dir);
    await database.close();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
