import type { Box, EdgeRoute } from '../../../src/model/layout';

/** The graph's legend and the geometry of its edges. */

export function Legend() {
  const items: Array<[string, string]> = [
    ['pending', 'Pending'],
    ['running', 'Running'],
    ['retry_wait', 'Waiting to retry'],
    ['success', 'Succeeded'],
    ['failed', 'Failed'],
    ['timeout', 'Timed out'],
    ['skipped', 'Skipped'],
  ];
  return (
    <div className="legend">
      {items.map(([status, label]) => (
        <span key={status} className={`legend-item status-${status}`}>
          <span className="legend-swatch" />
          {label}
        </span>
      ))}
      <span className="legend-item">
        <span className="legend-line line-depends_on" />
        depends_on
      </span>
      <span className="legend-item">
        <span className="legend-line line-sequence" />
        sequence
      </span>
      <span className="legend-item">
        <span className="legend-line line-reference" />
        reference
      </span>
    </div>
  );
}

/** Two points: an S-curve between box sides. More (dagre's route): a smooth curve through them. */
export function pathOf(edge: EdgeRoute): string {
  const [first, ...rest] = edge.points;
  if (!first) return '';
  if (edge.points.length === 2) {
    const last = rest[0] as { x: number; y: number };
    const bend = Math.max(24, Math.abs(last.x - first.x) / 2);
    return `M${first.x},${first.y} C${first.x + bend},${first.y} ${last.x - bend},${last.y} ${last.x},${last.y}`;
  }
  let d = `M${first.x},${first.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i] as { x: number; y: number };
    const q = rest[i + 1] as { x: number; y: number };
    d += ` Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
  }
  const end = rest[rest.length - 1] as { x: number; y: number };
  return `${d} L${end.x},${end.y}`;
}

export function bounds(edge: EdgeRoute): Box {
  const xs = edge.points.map((p) => p.x);
  const ys = edge.points.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

export function intersects(a: Box, b: Box): boolean {
  return a.x <= b.x + b.width && a.x + a.width >= b.x && a.y <= b.y + b.height && a.y + a.height >= b.y;
}
