import { GraphQLError, GraphQLScalarType } from 'graphql';
import { GraphQLJSONObject as LibraryJSONObject } from 'graphql-scalars';
import { isJsonObject } from './json.js';

/** graphql-scalars' JSON takes any value as it is; src/util/input-limits.ts bounds it. */
export { GraphQLJSON } from 'graphql-scalars';

/**
 * graphql-scalars' JSONObject, named and described the same, but refusing a value that is not an
 * object without printing it: graphql-scalars put the value in its message through a template
 * string, which for an array nested thousands deep overflowed the stack and sent "Maximum call
 * stack size exceeded" to the client (and echoed a huge string whole).
 */
export const GraphQLJSONObject = new GraphQLScalarType({
  ...LibraryJSONObject.toConfig(),
  parseValue: (value) => {
    if (!isJsonObject(value)) throw new GraphQLError('JSONObject cannot represent a value that is not an object');
    return value;
  },
});
