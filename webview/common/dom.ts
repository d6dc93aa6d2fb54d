/** A few lines of DOM building, so views stay declarative without a framework. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
}

/** An empty state that tells the user the next step. */
export function emptyState(title: string, body: string, ...actions: Node[]): HTMLElement {
  return h('div', { class: 'empty' }, h('h2', {}, title), h('p', {}, body), actions.length ? h('div', { class: 'actions' }, ...actions) : null);
}

export function appRoot(): HTMLElement {
  const root = document.getElementById('app');
  if (!root) throw new Error('webview has no #app element');
  return root;
}

/** The theme colour behind a VS Code CSS variable (charts need concrete colours). */
export function themeColor(variable: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(variable).trim();
  return value || fallback;
}

/** A small square in a class's colour, before its name wherever classes are listed. */
export function swatch(color: string): HTMLElement {
  return h('span', { class: 'swatch', style: `background:${color}`, 'aria-hidden': 'true' });
}

/**
 * A page made of sections that are rebuilt only when what they show changed: state snapshots arrive often
 * (a thumbnail loaded, a job progressed), and rebuilding everything would close an open drop-down, reset a
 * half-typed field and redraw every chart each time. `render(name, key, build)` rebuilds section `name`
 * when `key` (any JSON-able value) differs from the last one.
 */
export function keyedSections(parent: Element, names: readonly string[]): (name: string, key: unknown, build: () => Node | null) => void {
  const slots = new Map<string, { container: HTMLElement; key?: string }>();
  return (name, key, build) => {
    if (slots.size === 0 || !parent.contains(slots.values().next().value!.container)) {
      slots.clear();
      replaceChildren(parent, ...names.map((n) => {
        const container = h('div', { 'data-section': n });
        slots.set(n, { container });
        return container;
      }));
    }
    const slot = slots.get(name);
    if (!slot) throw new Error(`keyedSections: no section "${name}"`);
    const json = JSON.stringify(key);
    if (slot.key === json) return;
    slot.key = json;
    replaceChildren(slot.container, build());
  };
}
