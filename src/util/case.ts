/** `ingress_domain` as `ingressDomain`: JSON and SQL names as TypeScript's. */
export const camelCase = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** `ingressDomain` as `ingress_domain`. */
export const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
