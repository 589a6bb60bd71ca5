import { z } from 'zod';
import { schemaRegistry } from '../api.js';
import { StorjErrorBody } from './errors.js';

/** The schemas of Storj's admin API document. */
export const storjSchemas = schemaRegistry(StorjErrorBody);

export const ProjectParams = z.object({ id: z.guid().describe("the project's id: its env's") });

/** Storj answers a write but a create with 200 and no body. */
export const NoBody = z.undefined();
