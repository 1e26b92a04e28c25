// May our CA issue for this name? Pure: the relevant CAA RRset comes in (RFC 8659 §3,
// found by the DNS adapter), a verdict with words a person can act on goes out.
// RFC 8659 (CAA) and RFC 8657 (accounturi, validationmethods). Where the RFCs leave
// room we predict what Let's Encrypt's CA (Boulder) does, since a wrong "allowed"
// costs rate-limit budget and a wrong "forbidden" blocks the domain for nothing.
import type { ChallengeType, DnsAnswer } from './events.ts';
import type { LookupFailure } from './dns-check.ts';
import { failure, type Failure } from './failure-reasons.ts';

/** One CAA record as on the wire (RFC 8659 §4.1): the flags octet, the property tag and its value. */
export interface CaaRecord {
  flags: number;
  tag: string;
  value: string;
}

/** The Relevant RRset (RFC 8659 §3): the first non-empty CAA RRset climbing from the name towards the root. */
export interface CaaSet {
  /** Where the records are published: the queried name, or the end of its CNAME chain. */
  owner: string;
  records: CaaRecord[];
  /** The name whose CAA query returned the records when it is an alias (CNAME) of `owner`. */
  aliasedFrom?: string;
}

export interface OurCa {
  /** The CA's issuer domain names, first one preferred in advice, e.g. ['letsencrypt.org']. */
  issuerDomainNames: string[];
  /**
   * Our ACME account URL, as the first order recorded it (the pre-flight never holds
   * the account key). Unknown before that: account bindings are then left to the CA.
   */
  accountUri?: string;
  validationMethod: ChallengeType;
}

export interface CaaCheck {
  hostname: string;
  relevantSet: CaaSet | undefined;
  ca: OurCa;
  wildcard: boolean;
}

export type CaaVerdict = { allowed: true } | ({ allowed: false } & Failure);

/**
 * What the DNS said about CAA for a name: the Relevant RRset, `undefined` when no name
 * up to the TLD has CAA records, or why it could not be known (a SERVFAIL or timeout,
 * or an answer the resolver cannot read, `code` says which) on the query for `name`.
 */
export type CaaLookup = CaaSet | undefined | CaaLookupFailure;
export interface CaaLookupFailure {
  failure: LookupFailure;
  name: string;
  /** The resolver's error code when it is not a plain SERVFAIL or timeout, e.g. EBADRESP. */
  code?: string;
}

/**
 * RFC 8659 §4.1 names bit 128 the Issuer Critical Flag. Let's Encrypt also reads bit 1 as
 * critical, because many zones set it by mistake; we do too, so we refuse where it would.
 */
export const CRITICAL_FLAG_BITS = 0x80 | 0x01;
/** Tags we understand: issue and issuewild decide, iodef asks for reports we never send. */
const KNOWN_TAGS = new Set(['issue', 'issuewild', 'iodef']);

/** The parsed value of an issue or issuewild property (RFC 8659 §4.2, RFC 8657). */
export type IssueValue =
  | {
      ok: true;
      /** Lower-cased; undefined when empty (`;`): no CA may issue. */
      issuerDomainName: string | undefined;
      /** Keyed by lower-cased parameter tag. */
      parameters: Map<string, string>;
    }
  | { ok: false; problem: string };

// RFC 8659 §4.2: label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)); a parameter tag has the same shape.
const LABEL = '[A-Za-z0-9](?:-*[A-Za-z0-9])*';
const ISSUER_DOMAIN_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const PARAMETER_TAG = new RegExp(`^${LABEL}$`);
// value = *(%x21-3A / %x3C-7E): printable ASCII, no space, no semicolon.
const PARAMETER_VALUE = /^[\x21-\x3A\x3C-\x7E]*$/;
// RFC 8657 §4: each method is 1*(ALPHA / DIGIT / "-").
const METHOD = /^[A-Za-z0-9-]+$/;

export function parseIssueValue(value: string): IssueValue {
  const [head = '', ...segments] = value.split(';');
  const issuer = trimWsp(head);
  if (issuer !== '' && !ISSUER_DOMAIN_NAME.test(issuer)) return { ok: false, problem: `"${issuer}" is not a CA's domain name` };
  const parameters = new Map<string, string>();
  // `issuer;` with nothing after the semicolon is allowed by the grammar.
  const noParameters = segments.length === 0 || (segments.length === 1 && trimWsp(segments[0] ?? '') === '');
  if (!noParameters) {
    for (const segment of segments) {
      const equals = segment.indexOf('=');
      if (equals < 0) return { ok: false, problem: `the parameter "${trimWsp(segment)}" is not written tag=value` };
      const tag = trimWsp(segment.slice(0, equals));
      const parameterValue = trimWsp(segment.slice(equals + 1));
      if (!PARAMETER_TAG.test(tag)) return { ok: false, problem: `"${tag}" is not a parameter name` };
      if (!PARAMETER_VALUE.test(parameterValue)) {
        return { ok: false, problem: `the value of ${tag} has spaces or characters a parameter cannot have` };
      }
      const key = tag.toLowerCase();
      if (parameters.has(key)) return { ok: false, problem: `the parameter ${tag} appears twice` };
      parameters.set(key, parameterValue);
    }
  }
  return { ok: true, issuerDomainName: issuer === '' ? undefined : issuer.toLowerCase(), parameters };
}

export function isCritical(record: CaaRecord): boolean {
  return (record.flags & CRITICAL_FLAG_BITS) !== 0;
}

export function checkCaa({ hostname, relevantSet, ca, wildcard }: CaaCheck): CaaVerdict {
  if (!relevantSet || relevantSet.records.length === 0) return { allowed: true };
  const { records } = relevantSet;
  const ourIssuer = (ca.issuerDomainNames[0] ?? 'our CA').toLowerCase();
  const where = placeOf(relevantSet);

  const criticalUnknown = records.filter((record) => isCritical(record) && !KNOWN_TAGS.has(record.tag.toLowerCase()));
  if (criticalUnknown.length > 0) {
    const listed = criticalUnknown.map((record) => formatCaaRecord(relevantSet.owner, record)).join(', ');
    const fixed = criticalUnknown.map((record) => formatCaaRecord(relevantSet.owner, { ...record, flags: 0 })).join(', ');
    return forbidden(
      `The CAA records at ${where} stop ${ourIssuer} from issuing a certificate for ${hostname}: ${listed} ` +
        `${criticalUnknown.length === 1 ? 'is' : 'are'} marked critical with a property ${ourIssuer} does not support.`,
      `Remove ${criticalUnknown.length === 1 ? 'it' : 'them'}, or clear the critical flag: ${fixed}`,
    );
  }

  const withTag = (tag: string) => records.filter((record) => record.tag.toLowerCase() === tag);
  const issuewild = withTag('issuewild');
  const tag = wildcard && issuewild.length > 0 ? 'issuewild' : 'issue';
  const relevant = tag === 'issuewild' ? issuewild : withTag('issue');
  if (relevant.length === 0) return { allowed: true };

  const refusals: string[] = [];
  // The advice keeps the restrictions the owner put on our CA: an account binding, a method list.
  const restrictions = new Set<string>();
  for (const record of relevant) {
    const parsed = parseIssueValue(record.value);
    if (parsed.ok && parsed.issuerDomainName && ca.issuerDomainNames.some((name) => name.toLowerCase() === parsed.issuerDomainName)) {
      if (parsed.parameters.has('accounturi') && ca.accountUri) restrictions.add(`accounturi=${ca.accountUri}`);
      if (parsed.parameters.has('validationmethods')) restrictions.add(`validationmethods=${ca.validationMethod}`);
    }
    const refusal = refusalOf(parsed, ca);
    if (refusal === undefined) return { allowed: true };
    refusals.push(`${formatCaaRecord(relevantSet.owner, record)} ${refusal}`);
  }

  const advisedValue = [ourIssuer, ...restrictions].join('; ');
  const advice = formatCaaRecord(relevantSet.owner, { flags: 0, tag, value: advisedValue });
  return forbidden(
    `The CAA records at ${where} do not let ${ourIssuer} issue a certificate for ${hostname}: ${refusals.join('; ')}.`,
    `Add a CAA record: ${advice}`,
  );
}

function forbidden(whatHappened: string, whatToDo: string): CaaVerdict {
  return { allowed: false, ...failure('CAA_FORBIDS', whatHappened, whatToDo) };
}

/** The pre-flight's CAA verdict: a lookup that failed blocks issuance as surely as a record that forbids it. */
export function judgeCaa(check: Omit<CaaCheck, 'relevantSet'> & { lookup: CaaLookup }): CaaVerdict {
  const { lookup, ...rest } = check;
  if (lookup && 'failure' in lookup) {
    // The CA must get an answer to its CAA query, even an empty one: a provider that fails it blocks issuance.
    return {
      allowed: false,
      ...failure(
        'CAA_UNSUPPORTED',
        `The DNS provider for ${lookup.name} could not answer a CAA query (${lookup.failure}), so no CA may issue for ${check.hostname}.`,
      ),
    };
  }
  return checkCaa({ ...rest, relevantSet: lookup });
}

/** Why one issue/issuewild record does not let our CA issue, or undefined when it does. */
function refusalOf(parsed: IssueValue, ca: OurCa): string | undefined {
  if (!parsed.ok) return `cannot be read (${parsed.problem})`;
  const issuer = parsed.issuerDomainName;
  if (issuer === undefined) return 'lets no CA issue';
  if (!ca.issuerDomainNames.some((name) => name.toLowerCase() === issuer)) return `lets only ${issuer} issue`;
  const accountUri = parsed.parameters.get('accounturi');
  if (accountUri !== undefined && ca.accountUri !== undefined && accountUri !== ca.accountUri) {
    return `is for another ACME account (${accountUri}; ours is ${ca.accountUri})`;
  }
  const methods = parsed.parameters.get('validationmethods');
  if (methods !== undefined) {
    const listed = methods.split(',');
    if (!listed.every((method) => METHOD.test(method)))
      return `cannot be read (validationmethods=${methods} is not a comma-separated list)`;
    if (!listed.some((method) => method.toLowerCase() === ca.validationMethod)) {
      return `allows only ${listed.join(', ')} validation, and we validate with ${ca.validationMethod}`;
    }
  }
  return undefined;
}

/** A record as a zone file line: `example.com. CAA 0 issue "letsencrypt.org"`. */
export function formatCaaRecord(owner: string, record: CaaRecord): string {
  return `${owner.replace(/\.$/, '')}. CAA ${record.flags} ${record.tag} "${record.value.replace(/["\\]/g, '\\$&')}"`;
}

/** The set as DNS answers, to keep inside an event. */
export function caaAnswers(set: CaaLookup): DnsAnswer[] {
  if (!set || 'failure' in set) return [];
  return set.records.map((record) => ({ name: set.owner, type: 'CAA', data: `${record.flags} ${record.tag} "${record.value}"` }));
}

function placeOf(set: CaaSet): string {
  return set.aliasedFrom ? `${set.owner} (${set.aliasedFrom} is an alias of it)` : set.owner;
}

function trimWsp(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}
