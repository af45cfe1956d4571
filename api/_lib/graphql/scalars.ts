import { GraphQLScalarType, Kind } from 'graphql';

export const DateTime = new GraphQLScalarType<Date | null, string>({
  name: 'DateTime',
  description: 'ISO-8601 timestamp',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v as string).toISOString()),
  parseValue: (v) => new Date(v as string),
  parseLiteral: (ast) => (ast.kind === Kind.STRING ? new Date(ast.value) : null),
});

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Arbitrary JSON value',
  serialize: (v) => v,
  parseValue: (v) => v,
});
