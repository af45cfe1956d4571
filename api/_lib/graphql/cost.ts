// Query cost limit: each field costs 1, multiplied by the page size of every list above it (`first`, or
// a default for lists without one). Rejected before execution with BAD_USER_INPUT, so an expensive
// nested query never reaches the database. Depth is limited separately (graphql-depth-limit).
import {
  getNamedType, getNullableType, isListType, isObjectType, isInterfaceType, Kind,
  type DocumentNode, type FragmentDefinitionNode, type GraphQLField, type GraphQLSchema, type SelectionSetNode, type GraphQLObjectType,
} from 'graphql';

const DEFAULT_LIST_SIZE = 10;

/** Root fields that run a model: an operation may select each at most once (aliases and fragments included),
 * since one GraphQL request must not start more than one inference. */
export const ONCE_PER_OPERATION: Record<string, readonly string[]> = { query: ['infer'], mutation: [], subscription: [] };

/** How many times the operation's root selection runs `fieldName` (through aliases, inline fragments and fragment
 * spreads; a field under @skip/@include is counted, conservatively). */
export function rootFieldCount(document: DocumentNode, operationName: string | null | undefined, fieldName: string): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName));
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) return 0;
  const count = (set: SelectionSetNode, seen: Set<string>): number => {
    let n = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) n += sel.name.value === fieldName ? 1 : 0;
      else if (sel.kind === Kind.INLINE_FRAGMENT) n += count(sel.selectionSet, seen);
      else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments.get(sel.name.value);
        if (frag && !seen.has(frag.name.value)) n += count(frag.selectionSet, new Set([...seen, frag.name.value]));
      }
    }
    return n;
  };
  return count(op.selectionSet, new Set());
}

/** The first root field the operation selects more than once although ONCE_PER_OPERATION says it may not. */
export function repeatedOnceField(document: DocumentNode, operationName: string | null | undefined, operation: string): { field: string; count: number } | undefined {
  for (const field of ONCE_PER_OPERATION[operation] ?? []) {
    const count = rootFieldCount(document, operationName, field);
    if (count > 1) return { field, count };
  }
  return undefined;
}

function argValue(node: { arguments?: readonly { name: { value: string }; value: any }[] }, name: string, variables: Record<string, unknown>): unknown {
  const arg = node.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  if (arg.value.kind === Kind.VARIABLE) return variables[arg.value.name.value];
  if (arg.value.kind === Kind.INT) return Number(arg.value.value);
  return undefined;
}

export function queryCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> = {}): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName));
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) return 0;
  const root = op.operation === 'mutation' ? schema.getMutationType() : op.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 0;

  const walk = (set: SelectionSetNode, type: GraphQLObjectType, multiplier: number, seen: Set<string>): number => {
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        const field: GraphQLField<unknown, unknown> | undefined = type.getFields()[sel.name.value];
        if (!field) continue;
        cost += multiplier;
        const named = getNamedType(field.type);
        if (!sel.selectionSet || !(isObjectType(named) || isInterfaceType(named))) continue;
        let inner = multiplier;
        const first = argValue(sel, 'first', variables) ?? argValue(sel, 'limit', variables);
        const defaultFirst = field.args.find((a) => a.name === 'first')?.defaultValue;
        if (typeof first === 'number') inner *= Math.max(first, 1);
        else if (typeof defaultFirst === 'number') inner *= defaultFirst;
        // a connection's `edges` list was already counted by the connection's `first`
        else if (isListType(getNullableType(field.type)) && sel.name.value !== 'edges') inner *= DEFAULT_LIST_SIZE;
        cost += walk(sel.selectionSet, named as GraphQLObjectType, inner, seen);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type;
        if (t && isObjectType(t)) cost += walk(sel.selectionSet, t, multiplier, seen);
      } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments.get(sel.name.value);
        if (!frag || seen.has(frag.name.value)) continue;
        const t = schema.getType(frag.typeCondition.name.value);
        if (t && isObjectType(t)) cost += walk(frag.selectionSet, t, multiplier, new Set([...seen, frag.name.value]));
      }
    }
    return cost;
  };
  return walk(op.selectionSet, root, 1, new Set());
}
