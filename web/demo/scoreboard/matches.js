// What the viewer and the admin page share: the matches, and how a score is read.
// Each match is a channel `scores:<id>`. In dev mode the `scores` namespace keeps only the
// latest publication (history 1, recovery mode "cache"), so whoever subscribes gets the
// current score at once, in the subscribe reply.

/** @typedef {{ id: string, title: string, home: string, away: string }} Match */

/** @type {readonly Match[]} */
export const MATCHES = [
  { id: 'final', title: 'Final', home: 'Ravens', away: 'Comets' },
  { id: 'semi-1', title: 'Semi-final 1', home: 'Ravens', away: 'Harbor FC' },
  { id: 'semi-2', title: 'Semi-final 2', home: 'Comets', away: 'Northside' },
];

/** A score as published: `{"home": 2, "away": 1, "minute": 67}` (minute optional). @typedef {{ home: number, away: number, minute?: number }} Score */

/**
 * The score in a publication's data, or undefined when the data is not a score (anyone with
 * the API key can publish anything from a terminal; a typo must not break the page).
 * @param {unknown} data
 * @returns {Score | undefined}
 */
export function parseScore(data) {
  if (typeof data !== 'object' || data === null) return undefined;
  const { home, away, minute } = /** @type {Record<string, unknown>} */ (data);
  if (!isGoals(home) || !isGoals(away)) return undefined;
  return typeof minute === 'number' && Number.isFinite(minute) ? { home, away, minute } : { home, away };
}

/** @param {unknown} n @returns {n is number} */
function isGoals(n) {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/**
 * A copy of `template`'s first element for `match`, with its title and team names filled in
 * (elements `.title`, `.team.home`, `.team.away`) and `data-match` set.
 * @param {HTMLTemplateElement} template
 * @param {Match} match
 * @returns {HTMLElement}
 */
export function matchCard(template, match) {
  const card = /** @type {HTMLElement} */ (template.content.firstElementChild?.cloneNode(true));
  card.dataset.match = match.id;
  /** @param {string} selector @param {string} text */
  const fill = (selector, text) => {
    for (const el of card.querySelectorAll(selector)) el.textContent = text;
  };
  fill('.title', match.title);
  fill('.team.home', match.home);
  fill('.team.away', match.away);
  return card;
}

/**
 * Makes `el` flash (a CSS animation, see scoreboard.css; reduced motion gets a plain colour
 * fade). Removing the class and reading offsetWidth restarts the animation when it runs already.
 * @param {HTMLElement} el
 */
export function flash(el) {
  el.classList.remove('changed');
  void el.offsetWidth;
  el.classList.add('changed');
}
