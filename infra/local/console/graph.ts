// The state machine's graph, top to bottom, as the Step Functions console draws it: each
// state a box, in layers that follow Next, Choices, Default and Catch from StartAt. Loops
// go up a lane on the left, Catch edges down a lane on the right. Pure: no DOM.
import type { EdgeKind, GraphEdge, GraphNode, StateGraph } from './types.ts';

interface AslState {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next?: string }>;
  Catch?: Array<{ Next?: string }>;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

const BOX = { width: 124, height: 24, columnGap: 10, layerGap: 14, laneGap: 6, margin: 8 };

/** A state's ways out, in the definition's order. */
function successors(state: AslState): Array<{ to: string; kind: EdgeKind }> {
  return [
    ...(state.Choices ?? []).map((choice) => ({ to: choice.Next, kind: 'choice' as const })),
    { to: state.Default, kind: 'default' as const },
    { to: state.Next, kind: 'next' as const },
    ...(state.Catch ?? []).map((catcher) => ({ to: catcher.Next, kind: 'catch' as const })),
  ].filter((edge): edge is { to: string; kind: EdgeKind } => typeof edge.to === 'string');
}

export function layoutStateMachine(definition: AslDefinition): StateGraph {
  const states = definition.States;
  // Depth first from StartAt: an edge to a state on the path so far is a loop.
  const discovered: string[] = [];
  const finished: string[] = [];
  const onPath = new Set<string>();
  const edges: Array<Omit<GraphEdge, 'points'>> = [];
  const visit = (name: string) => {
    discovered.push(name);
    onPath.add(name);
    for (const { to, kind } of successors(states[name] ?? { Type: 'Unknown' })) {
      if (!(to in states)) continue;
      if (edges.some((edge) => edge.from === name && edge.to === to && edge.kind === kind)) continue;
      edges.push({ from: name, to, kind, back: onPath.has(to) });
      if (!discovered.includes(to)) visit(to);
    }
    onPath.delete(name);
    finished.push(name);
  };
  visit(definition.StartAt);
  for (const name of Object.keys(states)) if (!discovered.includes(name)) visit(name);

  // Each state one layer below the longest way down to it.
  const layer = new Map<string, number>();
  for (const name of [...finished].reverse()) {
    const parents = edges.filter((edge) => edge.to === name && !edge.back).map((edge) => (layer.get(edge.from) ?? 0) + 1);
    layer.set(name, Math.max(0, ...parents));
  }
  const layers: string[][] = [];
  for (const name of discovered) (layers[layer.get(name)!] ??= []).push(name);

  const lanes = (back: boolean) => [
    ...new Set(edges.filter((edge) => isLaneEdge(edge, layer) && edge.back === back).map((edge) => edge.to)),
  ];
  const leftLanes = lanes(true);
  const rightLanes = lanes(false);
  const widest = Math.max(...layers.map((names) => names.length));
  const step = BOX.width + BOX.columnGap;
  const left = BOX.margin + leftLanes.length * BOX.laneGap + BOX.laneGap;
  const centre = left + (widest * step - BOX.columnGap) / 2;

  const nodes = new Map<string, GraphNode>();
  layers.forEach((names, depth) => {
    // Under their parents; what only a Catch reaches goes to the right, with the failure path.
    const key = (name: string) => {
      const parents = edges.filter((edge) => edge.to === name && !edge.back);
      const xs = parents
        .map((edge) => nodes.get(edge.from))
        .filter((node) => node !== undefined)
        .map((node) => node.x);
      const catchOnly = parents.length > 0 && parents.every((edge) => edge.kind === 'catch');
      return [catchOnly ? 1 : 0, xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0];
    };
    const ordered = names
      .map((name, order) => ({ name, order, key: key(name) }))
      .sort((a, b) => a.key[0]! - b.key[0]! || a.key[1]! - b.key[1]! || a.order - b.order);
    ordered.forEach(({ name }, index) => {
      nodes.set(name, {
        name,
        type: states[name]?.Type ?? 'Unknown',
        layer: depth,
        x: centre + (index - (ordered.length - 1) / 2) * step - BOX.width / 2,
        y: BOX.margin + depth * (BOX.height + BOX.layerGap),
        width: BOX.width,
        height: BOX.height,
      });
    });
  });

  const all = [...nodes.values()];
  const minX = Math.min(...all.map((node) => node.x));
  const maxX = Math.max(...all.map((node) => node.x + node.width));
  const laneX = (edge: Omit<GraphEdge, 'points'>) =>
    edge.back ? minX - BOX.laneGap * (1 + leftLanes.indexOf(edge.to)) : maxX + BOX.laneGap * (1 + rightLanes.indexOf(edge.to));
  const routed: GraphEdge[] = edges.map((edge) => {
    const from = nodes.get(edge.from)!;
    const to = nodes.get(edge.to)!;
    const into: Array<[number, number]> = [
      [to.x + to.width / 2, to.y - BOX.layerGap / 2],
      [to.x + to.width / 2, to.y],
    ];
    if (!isLaneEdge(edge, layer)) return { ...edge, points: [[from.x + from.width / 2, from.y + from.height], ...into.slice(1)] };
    const x = laneX(edge);
    // Out of the side facing the lane, or, with a neighbour in the way, out of the bottom into the gap below.
    const blocked = all.some((node) => node.layer === from.layer && (edge.back ? node.x < from.x : node.x > from.x));
    const side = edge.back ? from.x : from.x + from.width;
    const out: Array<[number, number]> = blocked
      ? [
          [side + (edge.back ? 12 : -12), from.y + from.height],
          [side + (edge.back ? 12 : -12), from.y + from.height + BOX.layerGap / 2],
          [x, from.y + from.height + BOX.layerGap / 2],
        ]
      : [
          [side, from.y + from.height / 2],
          [x, from.y + from.height / 2],
        ];
    return { ...edge, points: [...out, [x, into[0]![1]], ...into] };
  });
  return {
    startAt: definition.StartAt,
    width: maxX + BOX.laneGap * (rightLanes.length + 1) + BOX.margin,
    height: BOX.margin * 2 + layers.length * (BOX.height + BOX.layerGap),
    nodes: all,
    edges: routed,
  };
}

/** Drawn in a lane beside the boxes: loops, Catch edges, and edges that skip a layer. */
function isLaneEdge(edge: Omit<GraphEdge, 'points'>, layer: Map<string, number>): boolean {
  return edge.back || edge.kind === 'catch' || layer.get(edge.to)! - layer.get(edge.from)! !== 1;
}
