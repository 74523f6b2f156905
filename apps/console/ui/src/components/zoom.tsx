export function ZoomControls(props: { label: string; onOut(): void; onIn(): void; onFit?: () => void }) {
  return (
    <div className="zoom">
      <button type="button" className="icon-button" onClick={props.onOut} title="Zoom out">
        −
      </button>
      <span className="zoom-value">{props.label}</span>
      <button type="button" className="icon-button" onClick={props.onIn} title="Zoom in">
        +
      </button>
      {props.onFit ? (
        <button type="button" className="icon-button" onClick={props.onFit} title="Fit the whole graph">
          Fit
        </button>
      ) : null}
    </div>
  );
}
