import {
  defaultFieldResolver, GraphQLID, GraphQLString, isInputObjectType, isListType, isNonNullType, isObjectType,
  type GraphQLArgument, type GraphQLFieldResolver, type GraphQLInputObjectType, type GraphQLInputType, type GraphQLSchema,
} from 'graphql';
import { GraphQLISODateTime } from 'type-graphql';
import { checkDate, checkJson, checkString, maxLength } from '../util/input-limits.js';
import { GraphQLJSON, GraphQLJSONObject } from '../util/json-scalars.js';

/** Checks one coerced input value; `path` names it for the error (input.name, filter.email, input.contexts[1]). */
type Check = (value: unknown, path: string) => void;

/**
 * The input limits (src/util/input-limits.ts) on every argument of every field, queries, mutations
 * and subscriptions alike, over HTTP and graphql-ws: a field taking a string, JSON or a date
 * anywhere in its arguments has them checked before its resolver (a subscription's subscribe) runs.
 * Other fields are left as they are, so the checks cost nothing on the rest of the schema.
 */
export function checkInputsOfEveryField(schema: GraphQLSchema): GraphQLSchema {
  const checks = new Checks();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const check = checks.ofArguments(field.args);
      if (!check) continue;
      if (field.subscribe) field.subscribe = guarded(field.subscribe, check);
      else field.resolve = guarded(field.resolve ?? defaultFieldResolver, check);
    }
  }
  return schema;
}

function guarded<S, C>(resolve: GraphQLFieldResolver<S, C>, check: (args: Record<string, unknown>) => void): GraphQLFieldResolver<S, C> {
  return (source, args, context, info) => {
    check(args);
    return resolve(source, args, context, info);
  };
}

/** Checks built once per schema from the argument types; an input object type's once, however many fields take it. */
class Checks {
  private readonly objects = new Map<GraphQLInputObjectType, Check | null>();

  ofArguments(args: readonly GraphQLArgument[]): ((args: Record<string, unknown>) => void) | null {
    const checked = args.flatMap((arg) => {
      const check = this.of(arg.type, arg.name);
      return check ? [{ name: arg.name, check }] : [];
    });
    if (!checked.length) return null;
    return (values) => {
      for (const { name, check } of checked) check(values[name], name);
    };
  }

  /** The check of a value of `type` held by a field or argument called `name` (which sets a string's maximum), or null when nothing in it is checked. */
  private of(type: GraphQLInputType, name: string): Check | null {
    if (isNonNullType(type)) return this.of(type.ofType, name);
    if (isListType(type)) {
      const item = this.of(type.ofType, name);
      if (!item) return null;
      return (value, path) => {
        // graphql-js has made a single value given for a list into a list of it
        if (Array.isArray(value)) value.forEach((v, i) => item(v, `${path}[${i}]`));
      };
    }
    if (isInputObjectType(type)) return this.ofObject(type);
    if (type === GraphQLString || type === GraphQLID) {
      const max = maxLength(name);
      return (value, path) => {
        if (typeof value === 'string') checkString(value, path, max);
      };
    }
    if (type === GraphQLJSON || type === GraphQLJSONObject) {
      return (value, path) => {
        if (value !== null && value !== undefined) checkJson(value, path);
      };
    }
    if (type === GraphQLISODateTime) {
      return (value, path) => {
        if (value instanceof Date) checkDate(value, path);
      };
    }
    return null;
  }

  private ofObject(type: GraphQLInputObjectType): Check | null {
    if (this.objects.has(type)) return this.objects.get(type)!;
    // an input type containing itself reaches this again before its check is known: it looks it up when run
    let check: Check | null = null;
    this.objects.set(type, (value, path) => check?.(value, path));
    const fields = Object.values(type.getFields()).flatMap((field) => {
      const fieldCheck = this.of(field.type, field.name);
      return fieldCheck ? [{ name: field.name, check: fieldCheck }] : [];
    });
    if (fields.length) {
      check = (value, path) => {
        if (typeof value !== 'object' || value === null) return;
        for (const field of fields) field.check((value as Record<string, unknown>)[field.name], `${path}.${field.name}`);
      };
    }
    this.objects.set(type, check);
    return check;
  }
}
