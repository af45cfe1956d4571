// Text the databases cannot store is refused at the boundary (BAD_USER_INPUT), before any resolver or route sees
// it: PostgreSQL rejects a NUL byte in text columns and SQLite's driver rejects an unpaired UTF-16 surrogate, so
// such a string used to travel to the first query and come back as a masked INTERNAL_SERVER_ERROR. One check for
// every string a client sends: the GraphQL request's variables and the document's string literals, and the JSON
// bodies of /v1/*. The message says where the string is, never what it contains.
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { badInput } from '../errors.js';

// without the u flag the pattern sees UTF-16 code units: a high surrogate not followed by a low one, or a low one
// not preceded by a high one, is unpaired
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` cannot be stored, or null. */
export function unstorableReason(s: string): string | null {
  const m = UNSTORABLE.exec(s);
  if (!m) return null;
  if (m[0] === '\u0000') return 'contains a NUL character (U+0000), which cannot be stored';
  return `contains an unpaired UTF-16 surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()}), which is not valid Unicode`;
}

/** The first string (value or object key) of a JSON value that cannot be stored, as "<where>.<path>: <reason>".
 * Iterative, so a deeply nested body cannot overflow the stack. */
export function findUnstorableText(value: unknown, where: string): string | null {
  const stack: [unknown, string][] = [[value, where]];
  while (stack.length) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      const reason = unstorableReason(v);
      if (reason) return `${at} ${reason}`;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}[${i}]`]);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const reason = unstorableReason(k);
        if (reason) return `a key in ${at} ${reason}`;
        stack.push([x, `${at}.${k}`]);
      }
    }
  }
  return null;
}

/** BAD_USER_INPUT for a JSON body with a string that cannot be stored (the /v1/* routes). */
export function assertStorableJson(value: unknown, where: string): void {
  const found = findUnstorableText(value, where);
  if (found) throw badInput(`${found}: send well-formed text without NUL characters`);
}

function unstorableLiteral(document: DocumentNode): string | null {
  let found: string | null = null;
  visit(document, {
    [Kind.STRING]: (node) => {
      const reason = found ? null : unstorableReason(node.value);
      if (reason) found = `a string literal at line ${node.loc?.startToken.line ?? '?'}, column ${node.loc?.startToken.column ?? '?'} ${reason}`;
    },
  });
  return found;
}

/** The GraphQL route's check: the request's variables and the document's string literals, once the operation is
 * known (a document that does not parse or validate is refused before this, as usual). */
export function refuseUnstorableText<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const found = findUnstorableText(request.variables ?? {}, 'variables') ?? unstorableLiteral(document);
          if (found) {
            throw new GraphQLError(`${found}: send well-formed text without NUL characters`, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
