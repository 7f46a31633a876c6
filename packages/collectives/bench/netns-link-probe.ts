// Link probe of bench/netns-ho-ring.ts: two processes on two namespace
// hosts send `bytes` to each other at once over one plain socket, three
// times; the server prints `RESULT {"ms": [...]}`, the time of each exchange.
//   node --import tsx bench/netns-link-probe.ts <server|client> <host> <port> <bytes>
import net from 'node:net';

const [role, host = '127.0.0.1', portArg = '0', bytesArg = '0'] = process.argv.slice(2);
const port = Number(portArg);
const bytes = Number(bytesArg);

// Bytes received so far on the socket: a chunk can hold the end of one
// exchange and the start of the next, so exchanges count against the total.
let received = 0;
let exchanges = 0;

function exchange(socket: net.Socket): Promise<void> {
  const target = ++exchanges * bytes;
  return new Promise((resolve) => {
    let sent = false;
    const done = () => {
      if (sent && received >= target) {
        socket.off('data', onData);
        resolve();
      }
    };
    const onData = () => done();
    socket.on('data', onData);
    socket.write(Buffer.alloc(bytes), () => {
      sent = true;
      done();
    });
  });
}

async function run(socket: net.Socket): Promise<void> {
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  const ms: number[] = [];
  await exchange(socket);
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await exchange(socket);
    ms.push(performance.now() - t);
  }
  if (role === 'server') console.log(`RESULT ${JSON.stringify({ ms })}`);
  socket.end();
}

if (role === 'server') {
  const server = net.createServer((s) => {
    void run(s).then(() => server.close());
  });
  server.listen(port, host, () => console.log('listening'));
} else {
  const s = net.connect({ port, host }, () => void run(s));
  s.on('error', () => undefined);
}
