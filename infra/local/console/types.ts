// What the console server answers about the local runner's executions, and the page reads.

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** How a state's visit went: `caught` failed into a Catch, `failed` ended the execution. */
export type StepStatus = 'running' | 'succeeded' | 'caught' | 'failed';

export interface ExecutionSummary {
  name: string;
  app: string;
  hostname: string;
  attempt: number;
  status: ExecutionStatus;
  startedAt: string;
  stoppedAt?: string;
  /** The state it is in now; once it ended, the last state it was in. */
  currentState?: string;
  error?: string;
}

/** One visit of a state, as the Step Functions console's table view shows it. */
export interface ExecutionStep {
  index: number;
  name: string;
  type: string;
  status: StepStatus;
  enteredAt: string;
  exitedAt?: string;
  input: unknown;
  output?: unknown;
  /** The last error the state raised (also when a retry then succeeded). */
  error?: { error: string; cause: string };
  retries: number;
  /** Where a Catch sent the execution. */
  caughtTo?: string;
}

export interface ExecutionDetail extends ExecutionSummary {
  input: unknown;
  steps: ExecutionStep[];
}

export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

export interface GraphNode {
  name: string;
  type: string;
  layer: number;
  /** The box's top-left corner and size, in the SVG's units. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** Goes back up (a loop). */
  back: boolean;
  /** The polyline, arrow at the last point. */
  points: Array<[number, number]>;
}

/** The state machine drawn top to bottom, as the console's graph view does. */
export interface StateGraph {
  startAt: string;
  width: number;
  height: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}
