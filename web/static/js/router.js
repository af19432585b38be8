/**
 * Hash routes. The whole app state a user can share or go back to lives in `location.hash`:
 *
 *   #/signup                         sign up (signed out)
 *   #/invite/TOKEN                   an invite link (signed in or out)
 *   #/settings[/SECTION]             the user's own settings (account | notifications | chat)
 *   #/new-project                    create a project
 *   #/p/ID/settings[/SECTION]        project settings (general | members | invites | webhooks | chat | integrations)
 *   #/p/ID[/t/TICKET][?QUERY]        the board, a ticket's drawer, filters in QUERY
 *
 * Fragments never reach the server or a proxy's access log, which is why invite tokens travel in one.
 */

const ROUTES = [
  [/^#\/signup\/?$/, () => ({ name: 'signup' })],
  [/^#\/invite\/([A-Za-z0-9_-]+)\/?$/, (m) => ({ name: 'invite', token: m[1] })],
  [/^#\/settings(?:\/([a-z-]+))?\/?$/, (m) => ({ name: 'settings', section: m[1] ?? 'account' })],
  [/^#\/new-project\/?$/, () => ({ name: 'new-project' })],
  [
    /^#\/p\/(\d+)\/settings(?:\/([a-z-]+))?\/?$/,
    (m) => ({ name: 'project-settings', projectId: Number(m[1]), section: m[2] ?? 'general' }),
  ],
  [
    /^#\/p\/(\d+)(?:\/t\/(\d+))?\/?$/,
    (m) => ({ name: 'board', projectId: Number(m[1]), ticketId: m[2] ? Number(m[2]) : null }),
  ],
];

/** The route named by a hash (`location.hash`); an unknown or empty hash is the board of no project. */
export function parseRoute(hash) {
  const [path, search = ''] = String(hash || '').split('?', 2);
  const query = new URLSearchParams(search);
  for (const [pattern, build] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { ...build(match), query };
  }
  return { name: 'board', projectId: null, ticketId: null, query };
}

/** The hash of a board route, with its filter query when there is one. */
export function boardHash(projectId, ticketId = null, query = null) {
  const search = query ? query.toString() : '';
  return `#/p/${projectId}${ticketId ? `/t/${ticketId}` : ''}${search ? `?${search}` : ''}`;
}

/** Routes that work without signing in. */
export const PUBLIC_ROUTES = new Set(['signup', 'invite']);
