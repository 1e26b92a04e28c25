// Looking for private key bytes where none may be: what a run logged, stored in its tables,
// passed between workflow states and answered. Shared by the e2e test and the reliability bench.
import { DynamoDBClient, ListTablesCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LocalWorkflows } from '../../functions/adapters/workflows/local-workflows.ts';
import { localClientConfig } from '../../infra/local/local-ports.ts';

/** Everything written to stdout and stderr from now on (still written through), in order. */
export function captureOutput(): string[] {
  const output: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      output.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  return output;
}

/** Long enough to be unmistakable, taken from the middle of the key's base64 body. */
export function fingerprintsOf(privateKeyPem: string): string[] {
  const body = privateKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return [body.slice(8, 48), body.slice(-48, -8)];
}

/** Every item of every table of a DynamoDB (Local), page by page, unmarshalled. */
export async function scanAllTables(endpoint: string): Promise<Record<string, unknown[]>> {
  const dynamodb = new DynamoDBClient(localClientConfig(endpoint));
  try {
    const tables = (await dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
    const items: Record<string, unknown[]> = {};
    for (const TableName of tables) {
      const rows: unknown[] = (items[TableName] = []);
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamodb.send(new ScanCommand({ TableName, ExclusiveStartKey }));
        for (const item of page.Items ?? []) rows.push(unmarshall(item));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
    return items;
  } finally {
    dynamodb.destroy();
  }
}

/** What the operators' console shows of each execution: its input, every state's input and output, its error. */
export function workflowRecords(workflows: LocalWorkflows): Array<{ input: unknown; history: unknown[]; error?: string }> {
  return [...workflows.executions.values()].map(({ input, history, error }) => ({ input, history, error }));
}

/** A PEM private key's armour (PKCS#8, PKCS#1, SEC1, encrypted), not the words alone: a refusal may name the block it wanted. */
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * Which places (name -> everything it holds, as text) hold a PEM private key, or bytes
 * of one of `privateKeysPem`: one entry per place and what was found there.
 */
export function placesHoldingKeys(places: Record<string, string>, privateKeysPem: string[]): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(places)) {
    if (PEM_PRIVATE_KEY.test(text)) found.push(`${where}: a PEM private key`);
    const holds = privateKeysPem.some((key) => fingerprintsOf(key).some((fingerprint) => text.includes(fingerprint)));
    if (holds) found.push(`${where}: private key bytes`);
  }
  return found;
}
