const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id in Berth is a uuid (Kubernetes uids included): anything else cannot name a row. */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
