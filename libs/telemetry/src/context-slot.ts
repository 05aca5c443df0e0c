/**
 * A value carried through async calls (Sluice's run context). Node 20's AsyncLocalStorage copies
 * every enabled storage into each promise made, so with tracing on, when OpenTelemetry's context
 * manager keeps its own storage, a second one of ours doubled that per-promise cost: about a
 * tenth of a traced worker's CPU in W2. So while tracing is on (and a context manager really
 * carries OpenTelemetry's context), the value rides in that context; otherwise in a storage of its own.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { context, createContextKey } from "@opentelemetry/api";
import { tracingCarriesContext } from "./tracing.js";

export class ContextSlot<T> {
  private readonly storage = new AsyncLocalStorage<T>();
  private readonly key: symbol;

  constructor(description: string) {
    this.key = createContextKey(description);
  }

  /** Calls `fn` with `value` as this slot's value, in it and in everything it starts. */
  run<R>(value: T, fn: () => R): R {
    if (tracingCarriesContext()) return context.with(context.active().setValue(this.key, value), fn);
    return this.storage.run(value, fn);
  }

  /** The value of the innermost `run` around this code, if any. */
  get(): T | undefined {
    // The mode of the call that set it first, the other after: tracing may be switched on or off.
    if (tracingCarriesContext())
      return (context.active().getValue(this.key) as T | undefined) ?? this.storage.getStore();
    return this.storage.getStore() ?? (context.active().getValue(this.key) as T | undefined);
  }
}
