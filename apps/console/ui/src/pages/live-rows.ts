import { useEffect, useRef } from 'react';
import type { ExecutionChange, ExecutionPage, ExecutionSummary } from '../../../src/model/api-types';

/**
 * Applies the server's change stream to the rows shown: a row that changed is replaced in
 * place; a new execution on the first page, or a removed one, asks for the page again.
 */
export function useLiveRows(
  page: ExecutionPage | null,
  setPage: (update: (page: ExecutionPage | null) => ExecutionPage | null) => void,
  firstPage: boolean,
  reload: () => void,
) {
  const revision = page?.revision;
  const opened = revision !== undefined;
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  const firstRef = useRef(firstPage);
  firstRef.current = firstPage;
  useEffect(() => {
    if (!opened) return;
    const source = new EventSource(`/api/executions/changes?after=${revision}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    source.addEventListener('changes', (message) => {
      const changes = JSON.parse((message as MessageEvent<string>).data) as ExecutionChange[];
      let missing = false;
      setPage((current) => {
        if (!current) return current;
        const byId = new Map(changes.map((change) => [change.execution_id, change]));
        const items: ExecutionSummary[] = [];
        for (const row of current.items) {
          const change = byId.get(row.execution_id);
          byId.delete(row.execution_id);
          if (!change) items.push(row);
          else if ('removed' in change) missing = true;
          else items.push(change);
        }
        if (byId.size > 0 && firstRef.current) missing = true;
        return { ...current, items };
      });
      if (missing) {
        clearTimeout(timer);
        timer = setTimeout(() => reloadRef.current(), 300);
      }
    });
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [opened]);
}
