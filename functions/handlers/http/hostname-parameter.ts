// A hostname a request names (in a body or a query), normalised like every other: lower case,
// no trailing dot, punycode; refused with the rule it breaks. Its own module: only the
// routes that take a hostname carry the Public Suffix List and IDNA tables.
import { InvalidInputError } from '../../domain/errors.ts';
import { checkHostname } from '../../domain/hostname.ts';

export function hostnameParameter(raw: string): string {
  const checked = checkHostname(raw);
  if (!checked.valid) throw new InvalidInputError('hostname', checked.rule);
  return checked.hostname;
}
