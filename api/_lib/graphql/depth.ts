// The query depth limit as a validation rule that cannot crash validation. graphql-depth-limit walks fragment
// spreads without checking that the fragment exists (`{ me { ...Missing } }` throws a TypeError inside validate(),
// which Apollo answers with a 500, no key needed) and recurses forever on a fragment cycle. Those documents are
// already refused by the standard rules (KnownFragmentNames, NoFragmentCycles) with GRAPHQL_VALIDATION_FAILED, so
// the depth limit runs only on documents whose fragments those two rules accept.
import { KnownFragmentNamesRule, NoFragmentCyclesRule, validate, type ValidationRule } from 'graphql';
import depthLimit from 'graphql-depth-limit';

export function depthLimitRule(maxDepth: number): ValidationRule {
  const limit = depthLimit(maxDepth);
  return (context) => {
    const fragmentErrors = validate(context.getSchema(), context.getDocument(), [KnownFragmentNamesRule, NoFragmentCyclesRule]);
    // skipped: the standard rules, which run in the same pass, report what is wrong with the fragments
    if (fragmentErrors.length) return {};
    return limit(context);
  };
}
