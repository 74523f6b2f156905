import { useMemo, useState } from 'react';

const SHOWN_CHARS = 200_000;
const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/**
 * A JSON value, pretty-printed with colours. Every part is a text node: whatever a plan or a
 * plugin put in a value (markup included) is shown, never interpreted.
 */
export function JsonView(props: { value: unknown; empty?: string }) {
  const [all, setAll] = useState(false);
  const text = useMemo(
    () => (props.value === undefined ? '' : JSON.stringify(props.value, null, 2)),
    [props.value],
  );
  if (props.value === undefined || props.value === null) {
    return <div className="json-empty">{props.empty ?? 'null'}</div>;
  }
  const cut = !all && text.length > SHOWN_CHARS;
  const shown = cut ? text.slice(0, SHOWN_CHARS) : text;
  return (
    <div className="json-view">
      <pre>{highlight(shown)}</pre>
      {cut ? (
        <button type="button" className="link-button" onClick={() => setAll(true)}>
          Show all {Math.round(text.length / 1024)} KiB
        </button>
      ) : null}
    </div>
  );
}

function highlight(text: string) {
  const parts: Array<string | { cls: string; text: string; key: number }> = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const at = match.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
    const [whole, string, colon, keyword, number] = match;
    if (string !== undefined) {
      parts.push({ cls: colon ? 'json-key' : 'json-string', text: string, key: at });
      if (colon) parts.push(colon);
    } else if (keyword !== undefined) parts.push({ cls: 'json-keyword', text: keyword, key: at });
    else if (number !== undefined) parts.push({ cls: 'json-number', text: number, key: at });
    last = at + whole.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts.map((part, i) =>
    typeof part === 'string' ? (
      part
    ) : (
      <span key={`${part.key}-${i}`} className={part.cls}>
        {part.text}
      </span>
    ),
  );
}
