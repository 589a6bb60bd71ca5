// Writes schema/schema.graphql from the code (npm run schema:emit). A test fails when the file drifts.
import { writeFileSync } from 'node:fs';
import { buildBerthSchema, printBerthSchema } from '../../resolvers/schema.js';

writeFileSync('schema/schema.graphql', printBerthSchema(await buildBerthSchema()));
console.log('wrote schema/schema.graphql');
