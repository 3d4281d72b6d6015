// `reset` for each reason (section 5.2): delivered to the application, and its `position`
// becomes the client's last id.
import { accept, ev, expect, live, replayed, send, subscribed } from './lib.mjs';

const cases = [
  // reason, position the server names, the first event after it
  ['retention_exceeded', 'c0-10', 'c0-11'],
  ['epoch_changed', 'd1-0', 'd1-1'],
  ['future_id', 'c0-3', 'c0-4'],
];

export default cases.map(([reason, position, next]) => ({
  id: `reset_${reason}`,
  title: `reset ${reason}: reported, delivery continues after its position, which is the new resume position`,
  protocol: '5.2',
  steps: [
    ...live(),
    send(ev('c0-5')),
    expect({ obs: 'event', id: 'c0-5' }),
    { cut: true },
    accept(),
    ...subscribed(['queue.>'], { from: 'c0-5', head: next }),
    send({ op: 'reset', reason, from: 'c0-5', position }),
    expect({ obs: 'reset', reason }),
    { driver: { cmd: 'last_event_id' } },
    expect({ obs: 'last_event_id', id: position }),
    send(ev(next)), replayed(1),
    expect({ obs: 'event', id: next }),
    { cut: true },
    accept(),
    ...subscribed(['queue.>'], { from: next, head: next }),
    replayed(0),
    expect({ obs: 'reconnect' }),
    { events: { s1: ['c0-5', next] } },
  ],
}));
