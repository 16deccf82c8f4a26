import { Component, type ComponentChildren, type FunctionComponent } from "preact";

/**
 * Re-renders only when a prop changed (shallow), like React.memo, without pulling in
 * preact/compat. Long threads rely on it: a typing indicator or a draft keystroke must
 * not re-render a thousand bubbles.
 */
export function memo<P extends object>(render: FunctionComponent<P>): FunctionComponent<P> {
  class Memoized extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const previous = this.props as Record<string, unknown>;
      const incoming = next as Record<string, unknown>;
      const keys = new Set([...Object.keys(previous), ...Object.keys(incoming)]);
      for (const key of keys) if (previous[key] !== incoming[key]) return true;
      return false;
    }
    override render(props: P): ComponentChildren {
      return render(props);
    }
  }
  return Memoized as unknown as FunctionComponent<P>;
}
