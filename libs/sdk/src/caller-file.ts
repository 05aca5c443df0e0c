/** Which user file called into the SDK: flows and tasks remember where they are defined, so another process can load them. */
const SDK_DIR = new URL(".", import.meta.url).pathname;

/** The source file of the first stack frame outside this package. */
export function callerFile(): string | null {
  const stack = new Error().stack?.split("\n").slice(1) ?? [];
  for (const frame of stack) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?$/.exec(frame.trim());
    const file = match?.[1];
    if (!file) continue;
    const path = file.startsWith("file://") ? new URL(file).pathname : file;
    if (path.startsWith(SDK_DIR) || path.startsWith("node:")) continue;
    return path;
  }
  return null;
}
