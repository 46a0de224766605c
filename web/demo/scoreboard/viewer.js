// The scoreboard viewer: one subscription per match, nothing else. The current score comes
// with the subscribe reply (a latest-value channel), later ones as they are published.
import { protocolUrl, showConnection } from '../shared/connection.js';
import { byId } from '../shared/dom.js';
import { flash, matchCard, MATCHES, parseScore } from './matches.js';

/** @typedef {import('./matches.js').Match} Match */
/** @typedef {import('./matches.js').Score} Score */

const list = byId('matches', HTMLUListElement);
const template = byId('match-template', HTMLTemplateElement);
const announce = byId('announce', HTMLElement);

// No token: in dev mode anyone may subscribe to scores:*, and a viewer needs no name.
const client = new Centrifuge(protocolUrl());
showConnection(client, byId('state', HTMLElement));

for (const match of MATCHES) {
  const card = matchCard(template, match);
  list.append(card);
  // A new score repeats most of the last one: scores: allows fossil deltas (full data where not).
  const sub = client.newSubscription(`scores:${match.id}`, { delta: 'fossil' });
  // The latest score arrives as an ordinary publication right after subscribing (and again
  // after a reconnect, if it changed meanwhile), so one handler covers every case.
  sub.on('publication', (ctx) => {
    const score = parseScore(ctx.data);
    if (score) showScore(card, match, score);
  });
  sub.subscribe();
}
client.connect();

/**
 * @param {HTMLElement} card
 * @param {Match} match
 * @param {Score} score
 */
function showScore(card, match, score) {
  const firstScore = card.dataset.score === undefined;
  for (const side of /** @type {const} */ (['home', 'away'])) {
    const goals = /** @type {HTMLElement} */ (card.querySelector(`.side[data-side="${side}"] .goals`));
    const text = String(score[side]);
    // Flash what changed, but not the score already there when the page opened.
    if (goals.textContent !== text && !firstScore) flash(goals);
    goals.textContent = text;
  }
  card.dataset.score = `${score.home}-${score.away}`;
  /** @type {HTMLElement} */ (card.querySelector('.minute')).textContent = score.minute === undefined ? 'live' : `${score.minute}'`;
  if (!firstScore) announce.textContent = `${match.title}: ${match.home} ${score.home}, ${match.away} ${score.away}`;
}
