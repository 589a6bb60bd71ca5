import type http from 'node:http';

/**
 * SIGTERM or SIGINT stops a bench peer (baseline, PostGraphile): the HTTP server closes, then `release` frees what
 * it holds, then the process exits 0.
 */
export function exitOnSignals(server: http.Server, release: () => PromiseLike<void> | void): void {
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    // closeAllConnections: the load generator's keep-alive sockets would otherwise hold close() open
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await release();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}
