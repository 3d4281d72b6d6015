// Benchmark peer: Bun's built-in (uWebSockets) pub/sub WebSocket server with the same topic
// fan-out as GlobeMeet. Protocol (text frames), shared with ws_server.mjs:
//   "S t1,t2,..."       subscribe to topics; answered "OK"
//   "P <topic> <data>"  publish <data> to every subscriber of <topic> (the sender too if subscribed)
// Run: bun bench/peers/bun_server.js [port]   (port 0 picks a free one; prints {"msg":"listening","port":N})
const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('websocket only', { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    // Defaults otherwise: a slow subscriber's backlog is bounded by Bun's backpressure limit.
    message(ws, message) {
      const text = typeof message === 'string' ? message : message.toString();
      if (text.startsWith('P ')) {
        const space = text.indexOf(' ', 2);
        server.publish(text.slice(2, space), text.slice(space + 1));
      } else if (text.startsWith('S ')) {
        for (const topic of text.slice(2).split(',')) ws.subscribe(topic);
        ws.send('OK');
      }
    },
  },
});

console.log(JSON.stringify({ msg: 'listening', port: server.port, server: 'bun', version: Bun.version }));
