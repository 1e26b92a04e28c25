// Where the local cloud's time goes, for `npm run bench -- --profile`: every call a port
// (or DynamoDB's client) makes is timed under its area and method. Off unless the bench
// asks: the local cloud wraps its ports only when given a profiler.

export interface Call {
  area: string;
  method: string;
  args: unknown[];
  startedAt: number;
  endedAt: number;
}

/** DynamoDB's write operations: what `dynamodb_writes` counts. */
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);

export class Profiler {
  private calls: Call[] = [];
  private readonly watchers: Array<(call: Call) => void> = [];

  /** The same object, each of its methods timed as `area.method` (a DynamoDB client: by command). */
  wrap<T extends object>(area: string, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
        return (...args: unknown[]) => {
          const method = property === 'send' ? commandName(args[0]) : property;
          const startedAt = performance.now();
          const result = (value as (...values: unknown[]) => unknown).apply(object, args);
          if (!(result instanceof Promise)) return result;
          return result.finally(() => this.record({ area, method, args, startedAt, endedAt: performance.now() }));
        };
      },
    });
  }

  /** Sees every call as it ends (the bench notes when a status row says "Cert Issued"). */
  watch(watcher: (call: Call) => void): void {
    this.watchers.push(watcher);
  }

  /** Forgets what was recorded: the next figures count from now. */
  reset(): void {
    this.calls = [];
  }

  dynamodbWrites(): number {
    return this.calls.filter((call) => call.area === 'dynamodb' && DYNAMODB_WRITES.has(call.method)).length;
  }

  count(area: string, method?: string): number {
    return this.calls.filter((call) => call.area === area && (method === undefined || call.method === method)).length;
  }

  /** Calls and time per area, and per area.method, busiest first. */
  totals(): Array<{ name: string; calls: number; ms: number }> {
    const byName = new Map<string, { calls: number; ms: number }>();
    for (const call of this.calls) {
      for (const name of [call.area, `${call.area}.${call.method}`]) {
        const total = byName.get(name) ?? { calls: 0, ms: 0 };
        total.calls++;
        total.ms += call.endedAt - call.startedAt;
        byName.set(name, total);
      }
    }
    return [...byName].map(([name, total]) => ({ name, ...total })).sort((a, b) => b.ms - a.ms);
  }

  private record(call: Call): void {
    this.calls.push(call);
    for (const watcher of this.watchers) watcher(call);
  }
}

function commandName(command: unknown): string {
  return ((command as { constructor?: { name?: string } })?.constructor?.name ?? 'send').replace(/Command$/, '');
}
