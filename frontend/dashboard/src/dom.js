// A tiny element builder: text always goes in as text (names come from the server), never as HTML.

/** h('p', { class: 'x', dataset: { figure: 'k' } }, 'text', child, [children]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A small table of a figure in words: { head: [...], rows: [[...]] }. */
export function table(spec, caption) {
  // Columns of numbers (and rates, and "—") are right-aligned; names and labels stay left.
  const numeric = spec.head.map((_, i) => i > 0 && spec.rows.every((row) => /^[\d,.%—-]+$/.test(String(row[i]))));
  return h(
    'table',
    { class: 'figures' },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, spec.head.map((c, i) => h('th', { scope: 'col', class: numeric[i] ? 'n' : null }, c)))),
    h(
      'tbody',
      {},
      spec.rows.map((row) =>
        h('tr', {}, row.map((c, i) => (i ? h('td', { class: numeric[i] ? 'n' : null }, c) : h('th', { scope: 'row' }, c)))),
      ),
    ),
  );
}
