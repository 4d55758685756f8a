// Preloaded (`--import`) into every server the benchmark starts: when the benchmark process goes
// away — even killed with SIGKILL — the IPC channel closes and the server shuts itself down.

if (process.send) {
  process.channel?.unref();
  process.once('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 15_000).unref();
  });
}
