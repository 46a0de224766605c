// The scoreboard admin: it subscribes like a viewer (to know the current score), and each
// +/− button asks the server to set the new score with the RPC `scores.set`. The page shows a
// score once the server has published it, so it always shows what viewers see.
import { protocolUrl, showConnection } from '../shared/connection.js';
import { byId } from '../shared/dom.js';
import { flash, matchCard, MATCHES, parseScore } from './matches.js';

/** @typedef {import('./matches.js').Match} Match */
/** @typedef {import('./matches.js').Score} Score */
/** @typedef {'home' | 'away'} Side */

const list = byId('matches', HTMLUListElement);
const template = byId('match-template', HTMLTemplateElement);
const status = byId('status', HTMLElement);

const client = new Centrifuge(protocolUrl());
showConnection(client, byId('state', HTMLElement));

for (const match of MATCHES) setUpMatch(match);
client.connect();

/** @param {Match} match */
function setUpMatch(match) {
  const card = matchCard(template, match);
  list.append(card);
  /**
   * The score the next click starts from: the latest published one, or the one we just asked
   * for, so that three quick clicks on + add three goals rather than one.
   * @type {Score}
   */
  let score = { home: 0, away: 0 };
  const buttons = [...card.querySelectorAll('button')];
  const teams = { home: match.home, away: match.away };

  for (const button of buttons) {
    const side = /** @type {Side} */ (/** @type {HTMLElement} */ (button.closest('.side')).dataset.side);
    const delta = Number(button.dataset.delta);
    // The buttons show only − and +: the label says what they do.
    button.setAttribute('aria-label', `${teams[side]} (${match.title}): ${delta > 0 ? 'one goal more' : 'one goal less'}`);
    button.disabled = true; // until the current score is known
    button.addEventListener('click', () => {
      const next = { ...score, [side]: Math.max(0, score[side] + delta) };
      score = next;
      void setScore(match, next);
    });
  }

  const sub = client.newSubscription(`scores:${match.id}`, { delta: 'fossil' });
  sub.on('subscribed', () => {
    for (const b of buttons) b.disabled = false;
    showScore(card, score, false); // the latest publication, if any, follows at once
  });
  sub.on('subscribing', () => {
    for (const b of buttons) b.disabled = true;
  });
  sub.on('publication', (ctx) => {
    const published = parseScore(ctx.data);
    if (!published) return;
    score = published;
    showScore(card, published, true);
  });
  sub.subscribe();
}

/**
 * @param {Match} match
 * @param {Score} score
 */
async function setScore(match, score) {
  try {
    await client.rpc('scores.set', { match: match.id, home: score.home, away: score.away, ...(score.minute === undefined ? {} : { minute: score.minute }) });
    status.textContent = `${match.title}: ${match.home} ${score.home}, ${match.away} ${score.away}`;
  } catch (err) {
    const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
    status.textContent = `${match.title}: not saved (${message})`;
  }
}

/**
 * @param {HTMLElement} card
 * @param {Score} score
 * @param {boolean} published  false for the 0–0 shown before the latest score arrives:
 *   it neither flashes nor counts as a published score (data-score)
 */
function showScore(card, score, published) {
  for (const side of /** @type {const} */ (['home', 'away'])) {
    const goals = /** @type {HTMLElement} */ (card.querySelector(`.side[data-side="${side}"] .goals`));
    const text = String(score[side]);
    if (published && goals.textContent !== text) flash(goals);
    goals.textContent = text;
    // Nothing below zero.
    /** @type {HTMLButtonElement} */ (card.querySelector(`.side[data-side="${side}"] [data-delta="-1"]`)).disabled = score[side] === 0;
  }
  if (published) card.dataset.score = `${score.home}-${score.away}`;
}
