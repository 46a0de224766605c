// The live scoreboard beside the arena, best first. Each entry carries the player's server
// position as data-x/data-y (what the tests read instead of canvas pixels). Entries are updated
// in place: rebuilding the list 20 times a second would lose a screen reader's place in it.
import { element } from '../shared/dom.js';

/** @typedef {import('./types.js').Snapshot} Snapshot */
/** @typedef {import('./types.js').SnapshotPlayer} SnapshotPlayer */

/**
 * Shows `snapshot`'s players in `list`, marking player `me` as "(you)".
 * @param {HTMLOListElement} list
 * @param {Snapshot | undefined} snapshot
 * @param {string} me
 */
export function renderScoreboard(list, snapshot, me) {
  /** @type {Map<string, HTMLLIElement>} */
  const existing = new Map();
  for (const li of list.querySelectorAll('li')) existing.set(li.dataset.id ?? '', li);
  if (!snapshot || snapshot.players.length === 0) {
    list.replaceChildren(element('li', 'empty', 'Nobody is playing in this room yet.'));
    return;
  }
  const players = new Map(snapshot.players.map((p) => [p.id, p]));
  const ordered = [];
  for (const [id, score] of snapshot.scores) {
    const p = players.get(id);
    if (!p) continue;
    const li = existing.get(id) ?? newLine(p);
    li.dataset.x = String(p.x);
    li.dataset.y = String(p.y);
    setText(li, '.score', String(score));
    li.dataset.score = String(score);
    li.dataset.me = String(id === me);
    setText(li, '.you', id === me ? '(you)' : '');
    ordered.push(li);
  }
  // Only touch the list when its order changed.
  const same = ordered.length === list.children.length && ordered.every((li, i) => list.children[i] === li);
  if (!same) list.replaceChildren(...ordered);
}

/** @param {SnapshotPlayer} p */
function newLine(p) {
  const li = element('li');
  li.dataset.id = p.id;
  li.dataset.name = p.name;
  const swatch = element('span', 'swatch');
  swatch.style.background = p.color;
  // element() sets text with textContent: a name is shown as text, never parsed as HTML.
  li.append(swatch, element('span', 'name', p.name), element('span', 'you'), element('span', 'score'),
    element('span', 'visually-hidden', ' points'));
  return li;
}

/** Sets the text of `root`'s `selector` child, only when it changed. */
function setText(/** @type {Element} */ root, /** @type {string} */ selector, /** @type {string} */ text) {
  const el = root.querySelector(selector);
  if (el && el.textContent !== text) el.textContent = text;
}
