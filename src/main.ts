#!/usr/bin/env node
import { loadConfig } from './config/config.js';
import { startBerth } from './server/app.js';

// a bug that escapes every handler is logged, not allowed to take down the server for every other client
process.on('unhandledRejection', (reason) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'unhandled rejection', err: String((reason as Error)?.stack ?? reason) }));
});

const [command] = process.argv.slice(2);
if (command !== undefined && command !== 'worker') {
  console.error(`unknown command "${command}": berth (the server) or berth worker (the background work alone, no HTTP)`);
  process.exit(2);
}
const config = loadConfig();
const berth = await startBerth(config, { role: command === 'worker' ? 'worker' : 'server' });
console.log(command === 'worker' ? 'Berth worker started (no HTTP)' : `Berth is serving GraphQL on ${berth.url} (WebSocket ${berth.wsUrl})`);
console.log(config.DATABASE_URL ? 'Database: PostgreSQL from DATABASE_URL' : `Database: embedded PostgreSQL in ${config.BERTH_DATA_DIR}`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: draining and shutting down`);
  await berth.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
