// Building DOM without HTML strings: every text goes through textContent, so names, tags and
// messages from providers and targets render as text, never as markup.

/**
 * Create an element. `props`: `class`, `title`, `data-*` and plain properties; children are nodes or
 * strings (strings become text nodes).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null) continue;
      if (k === 'class') el.className = v;
      else if (k === 'title') el.title = String(v);
      else if (k.startsWith('data-')) el.setAttribute(k, String(v));
      else if (k !== 'innerHTML' && k !== 'outerHTML') el[k] = v;
    }
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

/** Replace every child of `el`. */
export function setChildren(el, ...children) {
  el.replaceChildren(...children.filter((c) => c !== undefined && c !== null));
}

/** Set the text of an element found by id. */
export function setText(id, text) {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
}
