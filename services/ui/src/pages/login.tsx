/** Asked once when the server has SLUICE_API_KEY set; the key is kept in this browser until logging out. */
import { type FormEvent, useState } from "react";
import { useSession } from "../api/session";

export function LoginPage({ refused }: { refused: boolean }) {
  const { logIn } = useSession();
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(
    refused ? "The saved API key was refused by the server: enter the current one." : null,
  );
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(await logIn(key.trim()));
    setBusy(false);
  }

  return (
    <main id="main" className="login">
      <h1>Sluice</h1>
      <p>This server needs an API key (the value of SLUICE_API_KEY it was started with).</p>
      <form onSubmit={submit}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="current-password"
          value={key}
          onChange={(event) => setKey(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "api-key-error" : undefined}
          required
        />
        {error ? (
          <p id="api-key-error" className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy || key.trim() === ""}>
          {busy ? "Checking…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
