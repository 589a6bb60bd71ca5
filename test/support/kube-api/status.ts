import type { ResourceType } from './resources.js';

/** The body of every failed request: a v1 Status, as the real API server sends it. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

/** A request the API server refuses; thrown by the store, answered as its Status. */
export class ApiError extends Error {
  readonly status: Status;

  constructor(code: number, reason: string, message: string, details?: Status['details']) {
    super(message);
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
  }
}

const about = (type: ResourceType, name?: string) => ({ ...(name ? { name } : {}), group: type.group, kind: type.plural });

export const notFound = (type: ResourceType, name: string) => new ApiError(404, 'NotFound', `${type.plural} "${name}" not found`, about(type, name));

export const alreadyExists = (type: ResourceType, name: string) =>
  new ApiError(409, 'AlreadyExists', `${type.plural} "${name}" already exists`, about(type, name));

export const conflict = (type: ResourceType, name: string) =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${type.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    about(type, name),
  );

export const invalid = (type: ResourceType | undefined, name: string, message: string) =>
  new ApiError(422, 'Invalid', message, type ? about(type, name) : undefined);

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

export const forbidden = (message: string) => new ApiError(403, 'Forbidden', message);

/** A resourceVersion or continue token older than the history the server keeps. */
export const expired = (message: string) => new ApiError(410, 'Expired', message);

export const noSuchPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Any code, with the reason a real server gives it. */
export const failure = (code: number, message: string) => new ApiError(code, REASONS[code] ?? 'Unknown', message);
