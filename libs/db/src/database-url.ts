/** Helpers to read and rewrite the database part of a Postgres connection URL. */

/** The database named in a connection URL (`postgres://user@host:5432/NAME`). */
export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
  if (name === "") throw new Error(`The database URL names no database: ${redactUrl(url)}`);
  return name;
}

/** The same URL (server, credentials, options) pointing at another database. */
export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/** The URL without its password, for log and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<invalid database URL>";
  }
}

/** Quotes an SQL identifier (a database name in CREATE/DROP DATABASE, which take no parameters). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
