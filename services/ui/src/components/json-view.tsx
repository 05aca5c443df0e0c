/** JSON values (parameters, results, inputs) as readable, selectable text. */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" title={label}>
      {value === undefined ? "—" : JSON.stringify(value, null, 2)}
    </pre>
  );
}
