import { useEffect, useState } from 'react';
import type { PlanGraph } from '../../../src/model/graph';
import type { GraphLayout } from '../../../src/model/layout';

let worker: Worker | undefined;
let nextId = 0;

/** The layout of `graph`, computed in a Web Worker (null until it arrives). */
export function useLayout(graph: PlanGraph | null): GraphLayout | null {
  const [layout, setLayout] = useState<{ graph: PlanGraph; layout: GraphLayout } | null>(null);
  useEffect(() => {
    if (!graph) return;
    worker ??= new Worker(new URL('../layout.worker.ts', import.meta.url), { type: 'module' });
    const id = ++nextId;
    const onMessage = (message: MessageEvent<{ id: number; layout: GraphLayout }>) => {
      if (message.data.id === id) setLayout({ graph, layout: message.data.layout });
    };
    worker.addEventListener('message', onMessage);
    worker.postMessage({ id, graph });
    return () => worker?.removeEventListener('message', onMessage);
  }, [graph]);
  return layout && layout.graph === graph ? layout.layout : null;
}
