// Building elements from data. Text always goes in through textContent, never innerHTML, so
// whatever a user typed (even "<img src=x onerror=alert(1)>") is shown as text and never run.

/**
 * A new `<tag class="className">text</tag>`.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * The element with id `id`, typed as `type`; throws if the page has none, so a typo in an id
 * fails loudly at start rather than later as "cannot read properties of null".
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return el;
}
