/**
 * Places the plan graph for drawing, left to right: phases are laid out by dagre on the phase
 * graph, each one sized by the layout of its own tasks. Inside a phase, tasks linked by
 * depends_on, sequence or references go through dagre; tasks linked to nothing in their phase
 * (most of a wide parallel phase) fill a grid, and so do linked groups too large for dagre to
 * place quickly, in dependency order. Pure: the page runs it in a Web Worker.
 */
import dagre from '@dagrejs/dagre';
import type { PlanGraph, TaskEdgeKind } from './graph.js';

export const TASK_WIDTH = 208;
export const TASK_HEIGHT = 50;
const PHASE_HEADER = 44;
const PHASE_PADDING = 16;
const GRID_GAP_X = 16;
const GRID_GAP_Y = 12;
const MARGIN = 24;
/** Linked groups larger than this are placed on a grid: dagre's ordering grows too costly past it. */
const DAGRE_LIMIT = 400;

export interface Point {
  x: number;
  y: number;
}

/** Top-left corner and size. */
export interface Box extends Point {
  width: number;
  height: number;
}

export interface EdgeRoute {
  kind: 'phase' | TaskEdgeKind;
  from: string;
  to: string;
  points: Point[];
}

export interface GraphLayout {
  width: number;
  height: number;
  phases: Record<string, Box>;
  tasks: Record<string, Box>;
  edges: EdgeRoute[];
}

interface InnerLayout {
  width: number;
  height: number;
  tasks: Record<string, Box>;
  edges: EdgeRoute[];
}

export function layoutGraph(graph: PlanGraph): GraphLayout {
  const inner = new Map(graph.phases.map((phase) => [phase.phase_id, layoutPhase(graph, phase.task_ids)]));
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 96, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const phase of graph.phases) {
    const size = inner.get(phase.phase_id) as InnerLayout;
    g.setNode(phase.phase_id, {
      // Room for the header: the phase id (about 7.5 px a character) and "parallel · 12/12".
      width: Math.max(
        size.width + 2 * PHASE_PADDING,
        TASK_WIDTH + 2 * PHASE_PADDING,
        phase.phase_id.length * 7.5 + 130,
      ),
      height: size.height + PHASE_HEADER + PHASE_PADDING,
    });
  }
  for (const edge of graph.phase_edges) g.setEdge(edge.from, edge.to);
  dagre.layout(g);

  const layout: GraphLayout = { width: 0, height: 0, phases: {}, tasks: {}, edges: [] };
  for (const phase of graph.phases) {
    const node = g.node(phase.phase_id);
    const box = {
      x: node.x - node.width / 2,
      y: node.y - node.height / 2,
      width: node.width,
      height: node.height,
    };
    layout.phases[phase.phase_id] = box;
    const size = inner.get(phase.phase_id) as InnerLayout;
    const dx = box.x + PHASE_PADDING;
    const dy = box.y + PHASE_HEADER;
    for (const [id, task] of Object.entries(size.tasks)) {
      layout.tasks[id] = { ...task, x: task.x + dx, y: task.y + dy };
    }
    for (const edge of size.edges) {
      layout.edges.push({ ...edge, points: edge.points.map((p) => ({ x: p.x + dx, y: p.y + dy })) });
    }
    layout.width = Math.max(layout.width, box.x + box.width + MARGIN);
    layout.height = Math.max(layout.height, box.y + box.height + MARGIN);
  }
  for (const edge of graph.phase_edges) {
    layout.edges.push({ kind: 'phase', ...edge, points: g.edge(edge.from, edge.to)?.points ?? [] });
  }
  for (const edge of graph.task_edges) {
    if (!edge.cross_phase) continue;
    const from = layout.tasks[edge.from];
    const to = layout.tasks[edge.to];
    if (from && to)
      layout.edges.push({ kind: edge.kind, from: edge.from, to: edge.to, points: link(from, to) });
  }
  return layout;
}

function layoutPhase(graph: PlanGraph, taskIds: string[]): InnerLayout {
  const members = new Set(taskIds);
  const edges = graph.task_edges.filter((e) => !e.cross_phase && members.has(e.from) && members.has(e.to));
  const groups = connectedGroups(taskIds, edges);
  const loose = groups.filter((group) => group.length === 1).flat();
  const linked = groups.filter((group) => group.length > 1);
  const small = linked.filter((group) => group.length <= DAGRE_LIMIT).flat();
  const large = linked.filter((group) => group.length > DAGRE_LIMIT);

  const parts: InnerLayout[] = [];
  if (small.length > 0) {
    const smallSet = new Set(small);
    parts.push(
      dagreLayout(
        small,
        edges.filter((e) => smallSet.has(e.to)),
      ),
    );
  }
  for (const group of large) {
    const groupSet = new Set(group);
    const groupEdges = edges.filter((e) => groupSet.has(e.to));
    parts.push(gridLayout(topologicalOrder(group, groupEdges), groupEdges));
  }
  if (loose.length > 0) parts.push(gridLayout(loose, []));
  return stack(parts);
}

function dagreLayout(ids: string[], edges: PlanGraph['task_edges']): InnerLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: GRID_GAP_Y, ranksep: 56, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const id of ids) g.setNode(id, { width: TASK_WIDTH, height: TASK_HEIGHT });
  for (const edge of edges) g.setEdge(edge.from, edge.to);
  dagre.layout(g);
  const tasks: Record<string, Box> = {};
  for (const id of ids) {
    const node = g.node(id);
    tasks[id] = {
      x: node.x - TASK_WIDTH / 2,
      y: node.y - TASK_HEIGHT / 2,
      width: TASK_WIDTH,
      height: TASK_HEIGHT,
    };
  }
  const graphSize = g.graph();
  return {
    width: graphSize.width ?? 0,
    height: graphSize.height ?? 0,
    tasks,
    edges: edges.map((e) => ({
      kind: e.kind,
      from: e.from,
      to: e.to,
      points: g.edge(e.from, e.to)?.points ?? [],
    })),
  };
}

/** Rows of cells, about as wide as tall on screen; a short list stays one column. */
function gridLayout(ids: string[], edges: PlanGraph['task_edges']): InnerLayout {
  const cellWidth = TASK_WIDTH + GRID_GAP_X;
  const cellHeight = TASK_HEIGHT + GRID_GAP_Y;
  const columns = ids.length <= 8 ? 1 : Math.ceil(Math.sqrt((ids.length * cellHeight) / cellWidth));
  const tasks: Record<string, Box> = {};
  ids.forEach((id, i) => {
    const column = i % columns;
    const row = Math.floor(i / columns);
    tasks[id] = { x: column * cellWidth, y: row * cellHeight, width: TASK_WIDTH, height: TASK_HEIGHT };
  });
  const rows = Math.ceil(ids.length / columns);
  return {
    width: columns * cellWidth - GRID_GAP_X,
    height: rows * cellHeight - GRID_GAP_Y,
    tasks,
    edges: edges.map((e) => ({
      kind: e.kind,
      from: e.from,
      to: e.to,
      points: link(tasks[e.from] as Box, tasks[e.to] as Box),
    })),
  };
}

/** Parts one under the other. */
function stack(parts: InnerLayout[]): InnerLayout {
  const result: InnerLayout = { width: 0, height: 0, tasks: {}, edges: [] };
  for (const part of parts) {
    const dy = result.height === 0 ? 0 : result.height + 2 * GRID_GAP_Y;
    for (const [id, box] of Object.entries(part.tasks)) result.tasks[id] = { ...box, y: box.y + dy };
    for (const edge of part.edges) {
      result.edges.push({ ...edge, points: edge.points.map((p) => ({ x: p.x, y: p.y + dy })) });
    }
    result.width = Math.max(result.width, part.width);
    result.height = dy + part.height;
  }
  return result;
}

/** From the right side of one box to the left side of the other. */
function link(from: Box, to: Box): Point[] {
  return [
    { x: from.x + from.width, y: from.y + from.height / 2 },
    { x: to.x, y: to.y + to.height / 2 },
  ];
}

function connectedGroups(ids: string[], edges: PlanGraph['task_edges']): string[][] {
  const parent = new Map(ids.map((id) => [id, id]));
  const find = (id: string): string => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    parent.set(id, root);
    return root;
  };
  for (const edge of edges) parent.set(find(edge.from), find(edge.to));
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const root = find(id);
    const group = groups.get(root);
    if (group) group.push(id);
    else groups.set(root, [id]);
  }
  return [...groups.values()];
}

/** Kahn's order, ties in plan order; a validated plan has no cycle, the rest is appended as is. */
function topologicalOrder(ids: string[], edges: PlanGraph['task_edges']): string[] {
  const incoming = new Map(ids.map((id) => [id, 0]));
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    incoming.set(edge.to, (incoming.get(edge.to) ?? 0) + 1);
    next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  }
  const ready = ids.filter((id) => incoming.get(id) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift() as string;
    order.push(id);
    for (const to of next.get(id) ?? []) {
      const left = (incoming.get(to) ?? 0) - 1;
      incoming.set(to, left);
      if (left === 0) ready.push(to);
    }
  }
  const placed = new Set(order);
  return [...order, ...ids.filter((id) => !placed.has(id))];
}
