// A programmable DNS zone that stands in for public DNS and for the recursive
// resolver (8.8.8.8) both our DNS checks and Pebble's validation authority ask.
import type { Socket as UdpSocket } from 'node:dgram';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Packet, createTCPServer, createUDPServer, type Resource } from 'dns2';
import type { CaaRecord } from '../../functions/domain/caa.ts';

export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT' | 'CAA';
/** `no-answer` never replies, so the client times out. */
export type Behaviour = 'nxdomain' | 'servfail' | 'no-answer';

type RecordData = { address: string } | { domain: string } | { data: string } | CaaRecord;

interface ZoneNode {
  records: Map<number, RecordData[]>;
  /** Keyed by query type code, or ALL_TYPES. */
  failures: Map<number | typeof ALL_TYPES, Behaviour>;
}

type SavedZone = Array<[string, { records: Array<[number, RecordData[]]>; failures: Array<[number | typeof ALL_TYPES, Behaviour]> }]>;

/** What the server sends for one question; `null` means stay silent. */
export type ZoneAnswer = { rcode: number; answers: Resource[] } | null;

const ALL_TYPES = 'all';
const LOOPBACK = '127.0.0.1';
// Zero TTLs keep resolver caches (c-ares has one) from hiding zone changes.
const TTL_SECONDS = 0;
// A longer chain is treated as a loop, as recursive resolvers do.
const MAX_CNAME_HOPS = 16;
const MAX_CHARACTER_STRING_BYTES = 255;

export class DnsZone {
  readonly #nodes = new Map<string, ZoneNode>();
  readonly #pendingChanges = new Map<string, { queries: number; type: 'TXT'; values: string[] }>();

  /** With a file, the zone is kept there across restarts, as public DNS outlives the local cloud. */
  constructor(private readonly file?: string) {
    if (!file || !existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedZone;
    for (const [name, { records, failures }] of saved) this.#nodes.set(name, { records: new Map(records), failures: new Map(failures) });
  }

  /** Replaces that name's records of that type; an empty list removes them. */
  set(name: string, type: 'A' | 'AAAA' | 'TXT' | 'CNAME', values: string[]): void {
    if (type === 'CNAME' && values.length > 1) throw new Error(`${name} can have only one CNAME`);
    this.#setRecords(
      name,
      type,
      values.map((value) => toRecordData(type, value)),
    );
  }

  setCaa(name: string, records: CaaRecord[]): void {
    for (const record of records) {
      if (!Number.isInteger(record.flags) || record.flags < 0 || record.flags > 255) {
        throw new Error(`CAA flags must be an octet, got ${record.flags}`);
      }
    }
    this.#setRecords(
      name,
      'CAA',
      records.map((record) => ({ ...record })),
    );
  }

  /** Forgets the name: its records of every type and any failure set on it. */
  remove(name: string): void {
    this.#nodes.delete(normalize(name));
    this.#save();
  }

  /**
   * Makes queries for the name (all types, or only `type`) fail. A name that
   * only has failures still exists: other types get an empty NOERROR answer.
   */
  fail(name: string, behaviour: Behaviour, type?: RecordType): void {
    this.#nodeFor(name).failures.set(type === undefined ? ALL_TYPES : Packet.TYPE[type], behaviour);
    this.#save();
  }

  /**
   * Answers `queries` more questions for the name's `type` records as they are, then
   * replaces them with `values`: the zone changes between two lookers (our pre-flight, then the CA).
   */
  changeAfter(name: string, type: 'TXT', queries: number, values: string[]): void {
    this.#pendingChanges.set(`${normalize(name)}/${Packet.TYPE[type]}`, { queries, type, values });
  }

  clear(): void {
    this.#nodes.clear();
    this.#pendingChanges.clear();
    this.#save();
  }

  /**
   * Answers like a recursive resolver: CNAMEs are followed within the zone and
   * the chain is returned ahead of the final records.
   */
  answer(questionName: string, typeCode: number): ZoneAnswer {
    const key = `${normalize(questionName)}/${typeCode}`;
    const change = this.#pendingChanges.get(key);
    if (change && change.queries-- <= 0) {
      this.#pendingChanges.delete(key);
      this.set(questionName, change.type, change.values);
    }
    const answers: Resource[] = [];
    let ownerName = questionName;
    for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
      const node = this.#find(ownerName);
      if (!node) return { rcode: Packet.RCODE.NXDOMAIN, answers };
      const failure = node.failures.get(typeCode) ?? node.failures.get(ALL_TYPES);
      if (failure === 'no-answer') return null;
      if (failure === 'servfail') return { rcode: Packet.RCODE.SERVFAIL, answers: [] };
      if (failure === 'nxdomain') return { rcode: Packet.RCODE.NXDOMAIN, answers };
      const cname = node.records.get(Packet.TYPE.CNAME)?.[0];
      if (cname && 'domain' in cname && typeCode !== Packet.TYPE.CNAME) {
        answers.push(toResource(ownerName, Packet.TYPE.CNAME, cname));
        ownerName = cname.domain;
        continue;
      }
      for (const data of node.records.get(typeCode) ?? []) answers.push(toResource(ownerName, typeCode, data));
      return { rcode: Packet.RCODE.NOERROR, answers };
    }
    return { rcode: Packet.RCODE.SERVFAIL, answers: [] };
  }

  #setRecords(name: string, type: RecordType, records: RecordData[]): void {
    const node = this.#nodeFor(name);
    if (records.length > 0) node.records.set(Packet.TYPE[type], records);
    else node.records.delete(Packet.TYPE[type]);
    if (node.records.size === 0 && node.failures.size === 0) this.#nodes.delete(normalize(name));
    this.#save();
  }

  /** Written whole and renamed into place: a crash leaves the last zone or the new one, never half. */
  #save(): void {
    if (!this.file) return;
    const saved: SavedZone = [...this.#nodes].map(([name, node]) => [name, { records: [...node.records], failures: [...node.failures] }]);
    writeFileSync(`${this.file}.tmp`, JSON.stringify(saved));
    renameSync(`${this.file}.tmp`, this.file);
  }

  #nodeFor(name: string): ZoneNode {
    const key = normalize(name);
    let node = this.#nodes.get(key);
    if (!node) {
      node = { records: new Map(), failures: new Map() };
      this.#nodes.set(key, node);
    }
    return node;
  }

  /** The name's own node, else the nearest wildcard above it. */
  #find(name: string): ZoneNode | undefined {
    const key = normalize(name);
    const exact = this.#nodes.get(key);
    if (exact) return exact;
    const labels = key.split('.');
    for (let depth = 1; depth < labels.length; depth++) {
      const wildcard = this.#nodes.get(['*', ...labels.slice(depth)].join('.'));
      if (wildcard) return wildcard;
    }
    return undefined;
  }
}

export interface DnsServer {
  /** "127.0.0.1:PORT", for `Resolver.setServers` and Pebble's `-dnsserver`. */
  address: string;
  port: number;
  zone: DnsZone;
  stop(): Promise<void>;
}

/** Serves the zone over UDP and TCP on 127.0.0.1, on the same port number. */
export async function startDnsServer(options: { port?: number; file?: string } = {}): Promise<DnsServer> {
  const zone = new DnsZone(options.file);
  const maxAttempts = options.port === undefined ? 10 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await listenOnOnePort(zone, options.port ?? 0);
    } catch (error) {
      // The OS picked a TCP port whose UDP twin is taken: pick again.
      if (attempt >= maxAttempts || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
}

async function listenOnOnePort(zone: DnsZone, requestedPort: number): Promise<DnsServer> {
  const handle = (request: Packet, send: (response: Packet) => Promise<Buffer>): void => {
    const response = respond(zone, request);
    // A client that gave up on us is not our failure.
    if (response) send(response).catch(() => {});
  };
  const tcp = createTCPServer(handle);
  const udp = createUDPServer({ type: 'udp4' }).on('request', handle);
  const connections = new Set<Socket>();
  tcp.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  const port = await listenTcp(tcp, requestedPort);
  try {
    await bindUdp(udp, port);
  } catch (error) {
    await closeTcp(tcp, connections);
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    address: `${LOOPBACK}:${port}`,
    port,
    zone,
    stop() {
      stopped ??= Promise.all([closeTcp(tcp, connections), new Promise<void>((resolve) => udp.close(() => resolve()))]).then(() => {});
      return stopped;
    },
  };
}

function respond(zone: DnsZone, request: Packet): Packet | null {
  const response = Packet.createResponseFromRequest(request);
  // Go's resolver rejects an empty NOERROR from a server that offers no recursion as a lame referral.
  response.header.ra = 1;
  const question = request.questions[0];
  if (!question) {
    response.header.rcode = Packet.RCODE.FORMERR;
    return response;
  }
  const answer = zone.answer(question.name, question.type);
  if (!answer) return null;
  response.header.rcode = answer.rcode;
  response.answers = answer.answers;
  return response;
}

function listenTcp(server: NetServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function bindUdp(socket: UdpSocket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, LOOPBACK, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function closeTcp(server: NetServer, connections: Set<Socket>): Promise<void> {
  // close() waits for open connections, and a silenced query keeps one open.
  for (const socket of connections) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function toRecordData(type: 'A' | 'AAAA' | 'TXT' | 'CNAME', value: string): RecordData {
  switch (type) {
    case 'A':
      if (!isIPv4(value)) throw new Error(`Not an IPv4 address: ${value}`);
      return { address: value };
    case 'AAAA':
      if (!isIPv6(value)) throw new Error(`Not an IPv6 address: ${value}`);
      return { address: value };
    case 'CNAME':
      return { domain: normalize(value) };
    case 'TXT':
      // dns2 writes each string's length in one octet: longer values would be corrupted.
      if (Buffer.byteLength(value) > MAX_CHARACTER_STRING_BYTES) {
        throw new Error(`TXT value longer than ${MAX_CHARACTER_STRING_BYTES} bytes: ${value}`);
      }
      return { data: value };
  }
}

function toResource(name: string, type: number, data: RecordData): Resource {
  return new Packet.Resource({ name, type, class: Packet.CLASS.IN, ttl: TTL_SECONDS, ...data });
}
