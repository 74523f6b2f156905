import { useState } from 'react';

/** The same action on the command line, with a copy button. */
export function CliHint(props: { command: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    void navigator.clipboard?.writeText(props.command).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  };
  return (
    <div className="cli-hint">
      <span className="cli-label">{props.label ?? 'CLI'}</span>
      <code>{props.command}</code>
      <button type="button" className="icon-button" onClick={copy} title="Copy">
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
