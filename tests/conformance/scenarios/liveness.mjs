// Application-level liveness (section 7): `ping` every heartbeat_ms, a missing `pong` noticed
// within heartbeat_ms, then reconnect and resume.
import { SLACK_MS, OPTIONS, accept, ev, expect, live, send, subscribed } from './lib.mjs';

const HEARTBEAT = 400;

export default [
  {
    id: 'ping_every_heartbeat',
    title: 'the client sends `ping` about every heartbeat_ms (from `ready`)',
    protocol: '7',
    steps: [
      ...live({ ready: { heartbeat_ms: HEARTBEAT } }),
      { mark: 'live' },
      { expect_frame: { op: 'ping' }, after: 'live', max_ms: HEARTBEAT + SLACK_MS, skip_other: false },
      { wait_ms: HEARTBEAT * 3 },
      {
        check: ({ conn }) => {
          const pings = conn.frames.all.filter((f) => f.value?.op === 'ping');
          if (pings.length < 2) throw new Error(`${pings.length} pings in ${HEARTBEAT * 4} ms`);
        },
      },
      { no_attempt: { for_ms: 200 } },
    ],
  },
  {
    id: 'silent_server',
    title: 'a server that stops answering `ping`: noticed within heartbeat_ms of the ping, reconnect, resume',
    protocol: '7, 9',
    steps: [
      ...live({ ready: { heartbeat_ms: HEARTBEAT } }),
      send(ev('c0-1')),
      expect({ obs: 'event', id: 'c0-1' }),
      { silence: true },
      // The next ping comes within heartbeat_ms, its pong is missed heartbeat_ms later.
      expect({ obs: 'state', from: 'live', to: 'reconnecting' }, { after: 'silence', max_ms: 2 * HEARTBEAT + SLACK_MS }),
      accept({ after: 'silence', max_ms: 2 * HEARTBEAT + OPTIONS.backoff_max_ms + SLACK_MS }),
      ...subscribed(['queue.>'], { from: 'c0-1' }),
      expect({ obs: 'reconnect' }),
    ],
  },
];
