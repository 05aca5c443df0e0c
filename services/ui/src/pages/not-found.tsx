/** An unknown address inside the UI. */
import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. Go to the <Link to="/">dashboard</Link> or the{" "}
        <Link to="/flow-runs">flow runs</Link>.
      </p>
    </>
  );
}
