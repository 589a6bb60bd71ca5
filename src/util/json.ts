/** A JSON object (not an array, not null): what chart documents, configs and kubeconfig entries must be. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
