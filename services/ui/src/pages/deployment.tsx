/**
 * A deployment: its schedule in words and next runs, pause/resume, and "Run" with a form generated
 * from the flow's parameter schema (defaults filled in, the API's validation errors by field).
 */
import { type ApiDeployment, ApiError } from "@sluice/client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useLiveInvalidation } from "../api/live-events";
import { useFlowNames } from "../api/lookups";
import { useSession } from "../api/session";
import { Empty, ErrorMessage, QueryView } from "../components/feedback";
import { JsonView } from "../components/json-view";
import { LiveIndicator } from "../components/layout";
import { formatRelative, formatTime } from "../lib/format";
import {
  fieldErrorsFromDetail,
  type ParameterField,
  parameterFields,
  parseParameterValues,
} from "../lib/parameter-form";
import { describeSchedule } from "../lib/schedule";

export function DeploymentPage() {
  const id = useParams().id ?? "";
  const { client } = useSession();
  const deployment = useQuery({ queryKey: ["deployment", id], queryFn: () => client.readDeployment(id) });
  return (
    <QueryView query={deployment} what="the deployment">
      {(data) => <DeploymentView deployment={data} />}
    </QueryView>
  );
}

function DeploymentView({ deployment }: { deployment: ApiDeployment }) {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const flowNames = useFlowNames();
  const live = useLiveInvalidation(undefined, [["next-runs", deployment.id]]);
  const nextRuns = useQuery({
    queryKey: ["next-runs", deployment.id],
    queryFn: () =>
      client.filterFlowRuns({
        flow_runs: { deployment_id: { any_: [deployment.id] }, state: { type: { any_: ["SCHEDULED"] } } },
        sort: "EXPECTED_START_TIME_ASC",
        limit: 5,
      }),
  });
  const toggle = useMutation({
    mutationFn: () =>
      deployment.paused ? client.resumeDeployment(deployment.id) : client.pauseDeployment(deployment.id),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ["deployment", deployment.id] });
      void queryClient.invalidateQueries({ queryKey: ["deployments"] });
      void queryClient.invalidateQueries({ queryKey: ["next-runs", deployment.id] });
    },
  });
  const flowName = flowNames.get(deployment.flow_id) ?? "Flow";

  return (
    <>
      <div className="page-title">
        <h1>
          <span className="muted">{flowName} /</span> {deployment.name}
        </h1>
        <span className={`state-badge ${deployment.paused ? "state-paused" : "state-completed"}`}>
          {deployment.paused ? "Paused" : "Active"}
        </span>
        <LiveIndicator status={live} />
        <button type="button" className="secondary" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
          {deployment.paused ? "Resume" : "Pause"}
        </button>
      </div>
      {toggle.isError ? <ErrorMessage error={toggle.error} title="Could not change the deployment" /> : null}
      {deployment.description ? <p>{deployment.description}</p> : null}
      <dl className="facts">
        <div>
          <dt>Schedule</dt>
          <dd>
            {deployment.schedules.length
              ? deployment.schedules.map((schedule) => describeSchedule(schedule.schedule)).join("; ")
              : "No schedule: runs on demand"}
          </dd>
        </div>
        <div>
          <dt>Work pool</dt>
          <dd>{deployment.work_pool_name ?? "—"}</dd>
        </div>
        <div>
          <dt>Entrypoint</dt>
          <dd>
            <code>{deployment.entrypoint ?? "—"}</code>
          </dd>
        </div>
        <div>
          <dt>Tags</dt>
          <dd>{deployment.tags.length ? deployment.tags.join(", ") : "—"}</dd>
        </div>
        <div>
          <dt>Runs</dt>
          <dd>
            <Link to={`/flow-runs?deployment=${deployment.id}`}>All runs of this deployment</Link>
          </dd>
        </div>
      </dl>

      <section aria-labelledby="next-runs-title">
        <h2 id="next-runs-title">Next runs</h2>
        <QueryView query={nextRuns} what="the next runs">
          {(runs) =>
            runs.length === 0 ? (
              <Empty>
                <p>
                  {deployment.paused
                    ? "No upcoming runs: the deployment is paused. Resume it to schedule runs again."
                    : deployment.schedules.length
                      ? "No upcoming runs yet: the scheduler adds them shortly."
                      : "No upcoming runs: this deployment has no schedule. Start one with Run below."}
                </p>
              </Empty>
            ) : (
              <ul className="next-runs" aria-label="Next runs">
                {runs.map((run) => (
                  <li key={run.id}>
                    <Link to={`/flow-runs/${run.id}`}>{run.name}</Link> — {formatTime(run.expected_start_time)} (
                    {formatRelative(run.expected_start_time)})
                  </li>
                ))}
              </ul>
            )
          }
        </QueryView>
      </section>

      <RunForm deployment={deployment} />

      <section aria-labelledby="defaults-title">
        <h2 id="defaults-title">Default parameters</h2>
        <JsonView value={deployment.parameters} label="Default parameters" />
      </section>
    </>
  );
}

function RunForm({ deployment }: { deployment: ApiDeployment }) {
  const { client } = useSession();
  const navigate = useNavigate();
  const fields = useMemo(
    () => parameterFields(deployment.parameter_openapi_schema, deployment.parameters),
    [deployment.parameter_openapi_schema, deployment.parameters],
  );
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const run = useMutation({
    mutationFn: (parameters: Record<string, unknown>) =>
      client.createFlowRunFromDeployment(deployment.id, { parameters }),
    onSuccess: (created) => navigate(`/flow-runs/${created.id}`),
    onError: (error) => {
      if (error instanceof ApiError && error.status === 422) {
        setErrors(
          fieldErrorsFromDetail(
            error.detail,
            fields.map((field) => field.name),
          ),
        );
      } else setErrors({ "": (error as Error).message });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseParameterValues(fields, values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    run.mutate(parsed.parameters);
  };

  return (
    <section aria-labelledby="run-title">
      <h2 id="run-title">Run</h2>
      <form className="run-form" onSubmit={submit} noValidate>
        {fields.length === 0 ? <p className="muted">This flow takes no parameters.</p> : null}
        {fields.map((field) => (
          <ParameterInput
            key={field.name}
            field={field}
            value={values[field.name] ?? field.initial}
            error={errors[field.name]}
            onChange={(value) => setValues((current) => ({ ...current, [field.name]: value }))}
          />
        ))}
        {errors[""] ? (
          <p className="field-error" role="alert">
            {errors[""]}
          </p>
        ) : null}
        <button type="submit" disabled={run.isPending}>
          {run.isPending ? "Starting…" : "Run"}
        </button>
      </form>
    </section>
  );
}

function ParameterInput({
  field,
  value,
  error,
  onChange,
}: {
  field: ParameterField;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}) {
  const id = `param-${field.name}`;
  const describedBy = [field.description ? `${id}-help` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  const common = {
    id,
    name: field.name,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy || undefined,
  };
  let input: ReactNode;
  if (field.kind === "boolean") {
    input = (
      <input
        {...common}
        type="checkbox"
        checked={value === "true"}
        onChange={(e) => onChange(String(e.target.checked))}
      />
    );
  } else if (field.kind === "enum") {
    input = (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        {field.required ? null : <option value="">(default)</option>}
        {field.options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === "json") {
    input = <textarea {...common} rows={4} value={value} onChange={(e) => onChange(e.target.value)} />;
  } else {
    input = (
      <input
        {...common}
        type={field.kind === "string" ? "text" : "number"}
        step={field.kind === "integer" ? 1 : "any"}
        value={value}
        required={field.required}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className={`field${field.kind === "boolean" ? " field-inline" : ""}`}>
      <label htmlFor={id}>
        {field.label}
        {field.required ? " (required)" : ""}
      </label>
      {input}
      {field.description ? (
        <p id={`${id}-help`} className="muted">
          {field.description}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
