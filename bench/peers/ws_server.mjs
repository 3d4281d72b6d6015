// Benchmark peer: a Node `ws` broadcast server with per-topic subscriber sets (ws has no
// pub/sub of its own). Same text protocol as bun_server.js:
//   "S t1,t2,..."       subscribe to topics; answered "OK"
//   "P <topic> <data>"  send <data> to every subscriber of <topic>
// Run: node bench/peers/ws_server.mjs [port]   (prints {"msg":"listening","port":N})
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const topics = new Map(); // topic -> Set of sockets

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, clientTracking: false });

wss.on('connection', (ws) => {
  const mine = new Set();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    if (text.startsWith('P ')) {
      const space = text.indexOf(' ', 2);
      const subscribers = topics.get(text.slice(2, space));
      if (!subscribers) return;
      // One frame built once, sent to every subscriber (the `ws` broadcast idiom).
      const payload = Buffer.from(text.slice(space + 1));
      for (const peer of subscribers) peer.send(payload, { binary: false });
    } else if (text.startsWith('S ')) {
      for (const topic of text.slice(2).split(',')) {
        let set = topics.get(topic);
        if (!set) topics.set(topic, (set = new Set()));
        set.add(ws);
        mine.add(topic);
      }
      ws.send('OK');
    }
  });
  ws.on('close', () => {
    for (const topic of mine) topics.get(topic)?.delete(ws);
  });
  ws.on('error', () => {});
});

wss.on('listening', () => {
  console.log(JSON.stringify({ msg: 'listening', port: wss.address().port, server: 'ws' }));
});
