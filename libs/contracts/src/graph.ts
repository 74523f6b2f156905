/** Small graph helpers shared by plan validation and the decider's plan index. */

/**
 * Finds one cycle in a directed graph given as adjacency lists, or undefined. The cycle is
 * returned as the list of nodes walked, first node repeated at the end: `a -> b -> a`.
 */
export function findCycle(
  nodes: readonly string[],
  edges: (node: string) => readonly string[],
): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edges(node)) {
      const seen = state.get(next);
      if (seen === 'visiting') return [...stack.slice(stack.indexOf(next)), next];
      if (seen === undefined) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of nodes) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

/** Every node reachable from `start` (not including `start` itself unless on a cycle). */
export function reachable(start: string, edges: (node: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...edges(start)];
  while (pending.length > 0) {
    const node = pending.pop() as string;
    if (seen.has(node)) continue;
    seen.add(node);
    pending.push(...edges(node));
  }
  return seen;
}
