import { useState } from "preact/hooks";

export function SignIn({ busy, error, onSubmit }: { busy: boolean; error: string | null; onSubmit: (token: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <div class="sign-in">
      <form
        class="sign-in-card"
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim()) onSubmit(value.trim());
        }}
      >
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true" />
          <span class="brand-name">openlinq inbox</span>
        </div>
        <p class="muted">
          Watch every chat, act as any recipient and inspect every webhook. Sign in with an integration token; the
          start banner of <code>openlinq serve</code> prints a ready link.
        </p>
        <label class="field">
          <span>Integration token</span>
          <input
            name="token"
            type="password"
            autoComplete="off"
            autoFocus
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            placeholder="olq_…"
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy || !value.trim()}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <p class="muted small">Kept until the browser closes (a session cookie the server never reads).</p>
      </form>
    </div>
  );
}
