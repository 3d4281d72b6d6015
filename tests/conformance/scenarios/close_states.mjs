// close() by the user in every state (sections 8, 9): the client ends with 1000, sends a close
// frame if it has a connection, stops every attempt, and reports no error for it.
import { accept, connect, ev, expect, live, request, send } from './lib.mjs';

const closed = [
  { driver: { cmd: 'close' } },
  expect({ obs: 'closed', code: 1000 }),
  { no_attempt: { for_ms: 700 } },
  { no_obs: { obs: 'error', code: 'closed' }, for_ms: 0 },
];

export default [
  {
    id: 'close_idle',
    title: 'close() right after start',
    protocol: '9',
    steps: [connect(), ...closed.slice(0, 2), { no_obs: { obs: 'error', code: 'closed' }, for_ms: 300 }],
  },
  {
    id: 'close_fetching_token',
    title: 'close() while the token provider has not answered',
    protocol: '9',
    steps: [connect({ provider: true }), request('connect'), ...closed],
  },
  {
    id: 'close_connecting',
    title: 'close() while the handshake is unanswered',
    protocol: '9',
    steps: [connect(), accept({ stall: true }), expect({ obs: 'state', to: 'connecting' }), ...closed],
  },
  {
    id: 'close_authenticating',
    title: 'close() before `ready`: close frame 1000',
    protocol: '9',
    steps: [connect(), accept({ ready: false }), expect({ obs: 'state', to: 'authenticating' }), ...closed.slice(0, 2), { client_closes: { code: 1000 } }, ...closed.slice(2)],
  },
  {
    id: 'close_live',
    title: 'close() while live: close frame 1000, no event after it',
    protocol: '8 (1000), 9',
    steps: [
      ...live(),
      send(ev('c0-1')),
      expect({ obs: 'event', id: 'c0-1' }),
      ...closed.slice(0, 2),
      { client_closes: { code: 1000 } },
      ...closed.slice(2),
      { events: { s1: ['c0-1'] } },
    ],
  },
  {
    id: 'close_reconnecting',
    title: 'close() while waiting to reconnect: no further attempt',
    protocol: '9',
    steps: [
      ...live({ options: { backoff_base_ms: 3000, backoff_max_ms: 3000 } }),
      { cut: true },
      expect({ obs: 'state', to: 'reconnecting' }),
      { driver: { cmd: 'close' } },
      expect({ obs: 'closed', code: 1000 }),
      { no_attempt: { for_ms: 3500 } },
    ],
  },
];
