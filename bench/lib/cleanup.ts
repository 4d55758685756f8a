// One place for teardown: everything the run creates (child processes, temporary folders,
// PostgreSQL databases) registers here, and normal end, errors, Ctrl-C and SIGTERM all unwind it.

type Task = { name: string; run: () => Promise<void> | void };

const tasks: Task[] = [];
const interruptHooks = new Set<() => void>();
const TASK_TIMEOUT_MS = 20_000;
let interrupted = false;

/** True once Ctrl-C / SIGTERM was received: start nothing new. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Registers a teardown step; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(name: string, run: () => Promise<void> | void): () => Promise<void> {
  const task: Task = { name, run };
  tasks.push(task);
  return async () => {
    const i = tasks.indexOf(task);
    if (i < 0) return;
    tasks.splice(i, 1);
    await runBounded(task);
  };
}

/** Called first on Ctrl-C (e.g. to stop a running load generator). */
export function onInterrupt(hook: () => void): () => void {
  interruptHooks.add(hook);
  return () => interruptHooks.delete(hook);
}

async function runBounded(task: Task): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(task.run),
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${TASK_TIMEOUT_MS / 1000} s`)), TASK_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    process.stderr.write(`cleanup: ${task.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every registered step, newest first. */
export async function cleanupAll(): Promise<void> {
  while (tasks.length > 0) await runBounded(tasks.pop()!);
}

/** Ctrl-C / SIGTERM: stop the load, unwind everything, exit 130. A second signal exits at once. */
export function installSignalHandlers(forceKill: () => void): void {
  const handler = (signal: NodeJS.Signals) => {
    if (interrupted) {
      forceKill();
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping and cleaning up (press Ctrl-C again to force)…\n`);
    for (const hook of interruptHooks) hook();
    cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
