// Baseline for bench/allreduce-tcp.ts: two Node.js processes exchanging
// `size` bytes both ways at once over one plain loopback socket ('data'
// events, no framing, no checksum), the floor any Node TCP transport stands
// on. Rank 0 listens on PORT; prints `RESULT {...}` on rank 0.
//   node bench/raw-socket-exchange.mjs <0|1> <port> <sizes json>
import net from 'node:net';

const [role, portArg, sizesArg] = process.argv.slice(2);
const port = Number(portArg);
const sizes = JSON.parse(sizesArg);

// Bytes received so far and the total each exchange waits for: counted
// across exchanges, because the peer may start the next exchange (and its
// bytes may arrive) before this side has seen its write callback.
let received = 0;
let expected = 0;
let wake = () => {};

function listen(socket) {
  socket.on('data', (chunk) => {
    received += chunk.length;
    if (received >= expected) wake();
  });
}

const payloads = new Map();
const payload = (size) => {
  if (!payloads.has(size)) payloads.set(size, Buffer.alloc(size, 1));
  return payloads.get(size);
};

function exchange(socket, size) {
  expected += size;
  const target = expected;
  return new Promise((resolve) => {
    let sent = false;
    const finish = () => {
      if (sent && received >= target) resolve();
    };
    wake = finish;
    socket.write(payload(size), () => {
      sent = true;
      finish();
    });
  });
}

async function run(socket) {
  socket.setNoDelay(true);
  listen(socket);
  for (const size of sizes) {
    const iters = size >= 16 << 20 ? 3 : 8;
    await exchange(socket, size);
    const ms = [];
    for (let i = 0; i < iters; i++) {
      const t = performance.now();
      await exchange(socket, size);
      ms.push(performance.now() - t);
    }
    if (role === '0') console.log(`RESULT ${JSON.stringify({ bytes: size, iters, ms })}`);
  }
  socket.end();
}

if (role === '0') {
  const server = net.createServer((s) => run(s).then(() => server.close()));
  server.listen(port, '127.0.0.1', () => console.log('listening'));
} else {
  const s = net.connect({ port, host: '127.0.0.1' }, () => run(s));
  s.on('error', () => undefined);
}
