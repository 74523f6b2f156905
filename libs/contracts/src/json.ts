/**
 * Returns the path of the first value nested deeper than `limit` (`(root).a[0]`), or undefined.
 * Iterative, so a hostile value cannot overflow the stack, and it never goes below `limit`
 * levels, so it also ends on cyclic values.
 */
export function depthExceeding(value: unknown, limit: number, root = '(root)'): string | undefined {
  const pending: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: root }];
  while (pending.length > 0) {
    const item = pending.pop() as { value: unknown; depth: number; path: string };
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= limit) return item.path;
    for (const [key, child] of Object.entries(item.value)) {
      const path = Array.isArray(item.value) ? `${item.path}[${key}]` : `${item.path}.${key}`;
      pending.push({ value: child, depth: item.depth + 1, path });
    }
  }
  return undefined;
}
