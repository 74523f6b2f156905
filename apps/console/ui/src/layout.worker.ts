/// <reference lib="webworker" />
import type { PlanGraph } from '../../src/model/graph';
import { layoutGraph } from '../../src/model/layout';

/** Graph layout off the main thread: a plan of thousands of tasks never freezes the page. */
self.onmessage = (message: MessageEvent<{ id: number; graph: PlanGraph }>) => {
  const { id, graph } = message.data;
  const started = performance.now();
  const layout = layoutGraph(graph);
  self.postMessage({ id, layout, ms: performance.now() - started });
};
