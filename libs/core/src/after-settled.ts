/**
 * `promise.finally(callback)` for a synchronous callback, making one promise instead of three.
 * On the path every task run takes, each promise costs about 1.7 µs of CPU while Node 20's
 * AsyncLocalStorage is in use (half of that without): the wrappers around a no-op run once made
 * more than fifty of them.
 */
export function afterSettled<T>(promise: Promise<T>, callback: () => void): Promise<T> {
  return promise.then(
    (value) => {
      callback();
      return value;
    },
    (error: unknown) => {
      callback();
      throw error;
    },
  );
}
