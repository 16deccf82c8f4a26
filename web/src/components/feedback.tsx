/** The outcome of the last action in a panel: an error (announced) or a notice. */
export function Feedback({ error, notice }: { error?: string | null | undefined; notice?: string | null | undefined }) {
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
    </>
  );
}
