/**
 * Page-wide keyboard help, independent of the app's state.
 *
 * The skip link jumps past the top bar and the filters to whatever main landmark is visible (the
 * board, a screen such as settings, or the sign-in form) and moves keyboard focus there. It does not
 * follow its `href`: `location.hash` is the app's router, and `#board` is no route.
 */

const visible = (selector) => [...document.querySelectorAll(selector)].find((el) => el.getClientRects().length > 0);

const skip = document.querySelector('.skip-link');
skip?.addEventListener('click', (event) => {
  event.preventDefault();
  // The visible main landmark; a screen without one still has its <h1>.
  const target = visible('main') ?? visible('h1');
  if (!target) return;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
  target.scrollIntoView({ block: 'nearest' });
});
