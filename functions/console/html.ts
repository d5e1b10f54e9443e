/**
 * HTML from escaped text only. `html\`…\`` escapes every interpolated value unless it is already `Html` (the result
 * of another `html` template), so saga data, dead-letter payloads and query parameters can only ever appear as text.
 * Attribute values in the templates are always double-quoted; escaping `"` and `'` keeps a value inside its quotes.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

function render(v: Interpolation): string {
  if (v instanceof Html) return v.value;
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return (v as readonly Interpolation[]).map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** A query string from parameters (empty values left out), for links that keep the current filters. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** A path with an encoded id segment: `/sagas/` + id. */
export function pathOf(prefix: string, id: string): string {
  return `${prefix}${encodeURIComponent(id)}`;
}

/** Pretty JSON as text (escaped when interpolated). */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
