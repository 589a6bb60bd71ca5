#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { loadConfig, type Config } from './config/config.js';
import { StartupError } from './errors/startup-error.js';
import { createLogger, type Logger } from './logging/logger.js';
import { startBerth, type Berth } from './server/app.js';

const [command] = process.argv.slice(2);
if (command !== undefined && command !== 'worker') {
  console.error(`unknown command "${command}": berth (the server) or berth worker (the background work alone, no HTTP)`);
  process.exit(2);
}

let config: Config;
let logger: Logger;
let berth: Berth;
try {
  config = loadConfig();
  // The embedded engine's WebAssembly (PGlite's, the only wasm Berth runs) stays as V8's baseline compiler (Liftoff)
  // made it: TurboFan's optimized copies of its hot functions cost about 40 MB and compile time, for queries that
  // spend little of their time in them (README, BERTH_EMBEDDED_OPTIMIZE_WASM). V8 reads the flag when it compiles a
  // module, and the engine's is compiled after this, when the database opens: set here, the flag does what it does
  // on node's command line (the same memory saved), without a second process to pass it.
  if (!config.DATABASE_URL && !config.BERTH_EMBEDDED_OPTIMIZE_WASM) setFlagsFromString('--liftoff-only');
  logger = createLogger(config.LOG_LEVEL);
  // a bug that escapes every handler is logged, not allowed to take down the server for every other client
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  berth = await startBerth(config, { role: command === 'worker' ? 'worker' : 'server', logger });
} catch (err) {
  // the operator's to fix: what to change, without a stack trace; anything else is a fault of Berth, with its stack
  console.error(err instanceof StartupError ? `berth: ${err.message}` : err);
  process.exit(1);
}
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
