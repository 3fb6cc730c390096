#!/usr/bin/env node
// A consumer of Pledge's committed messages over RabbitMQ, written in Node.js with amqplib from
// docs/brokers.md ("A consumer in another language") alone: it knows nothing of Pledge but the
// exchange of the subscription's amqp:// target and the table "On the wire".
//
//   node consumer.js --url amqp://guest:guest@127.0.0.1:5672/%2F --exchange orders \
//     --queue orders-node --inbox ./inbox.jsonl [--binding '#'] [--prefetch 16] [--delay-ms 0]
//
// It declares the exchange as Pledge does (topic, durable), a durable queue, and binds it with the
// binding key (every topic by default), then prints READY. Each message is handled at least once
// and its effect happens once: the "inbox" is the file --inbox, one JSON line per message id,
// written and fsynced before the ack. A message whose id is already in the file is acked without
// its effect (a redelivery after a crash, or a duplicate publish). Lines on stdout:
//   READY <queue>            bound and consuming
//   RECEIVED <id>            effect done (line written), acked
//   DUPLICATE <id>           already in the inbox, acked without the effect
//   REJECTED <reason>        no message_id or no pledge-topic: rejected without requeue
// Exit code 2 on a bad argument, 1 when the connection fails or is lost.
'use strict';

const fs = require('fs');
const amqp = require('amqplib');

function parseArgs(argv) {
  const options = { binding: '#', prefetch: 16, delayMs: 0 };
  const names = {
    '--url': 'url',
    '--exchange': 'exchange',
    '--queue': 'queue',
    '--inbox': 'inbox',
    '--binding': 'binding',
    '--prefetch': 'prefetch',
    '--delay-ms': 'delayMs',
  };
  for (let i = 2; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name || i + 1 >= argv.length) {
      throw new Error(`unknown or incomplete argument ${argv[i]}`);
    }
    options[name] = argv[i + 1];
  }
  for (const required of ['url', 'exchange', 'queue', 'inbox']) {
    if (!options[required]) {
      throw new Error(`--${required} is required`);
    }
  }
  options.prefetch = Number(options.prefetch);
  options.delayMs = Number(options.delayMs);
  if (!Number.isInteger(options.prefetch) || options.prefetch < 1 || options.prefetch > 1000) {
    throw new Error('--prefetch must be an integer in [1, 1000]');
  }
  if (!Number.isInteger(options.delayMs) || options.delayMs < 0 || options.delayMs > 10000) {
    throw new Error('--delay-ms must be an integer in [0, 10000]');
  }
  return options;
}

// AMQP header values arrive as strings or, for long strings, as Buffers: read both as UTF-8 text.
function text(value) {
  if (value === undefined || value === null) {
    return null;
  }
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

// The ids already recorded: the inbox file is the consumer's own durable table.
function loadInbox(path) {
  const seen = new Set();
  if (!fs.existsSync(path)) {
    return seen;
  }
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') {
      continue;
    }
    try {
      seen.add(JSON.parse(line).id);
    } catch (e) {
      // A line cut short by a crash while it was written: its message was not acked, so it comes
      // again and is recorded then.
    }
  }
  return seen;
}

function record(fd, entry) {
  fs.writeSync(fd, JSON.stringify(entry) + '\n');
  fs.fsyncSync(fd);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const options = parseArgs(process.argv);
  const seen = loadInbox(options.inbox);
  const fd = fs.openSync(options.inbox, 'a');
  const connection = await amqp.connect(options.url);
  connection.on('error', (err) => {
    console.error(`connection error: ${err.message}`);
  });
  connection.on('close', () => {
    console.error('connection closed');
    process.exit(1);
  });
  const channel = await connection.createChannel();
  // Same declaration as Pledge's sink (durable topic exchange), so whichever comes first creates it.
  await channel.assertExchange(options.exchange, 'topic', { durable: true });
  await channel.assertQueue(options.queue, { durable: true });
  await channel.bindQueue(options.queue, options.exchange, options.binding);
  await channel.prefetch(options.prefetch);

  // One message at a time, in queue order: the effect, then the ack.
  let chain = Promise.resolve();
  const handle = async (msg) => {
    const id = msg.properties.messageId;
    const headers = msg.properties.headers || {};
    const topic = text(headers['pledge-topic']);
    if (!id || !topic) {
      console.log(`REJECTED ${id ? 'no pledge-topic header' : 'no message_id'}`);
      channel.nack(msg, false, false);
      return;
    }
    if (seen.has(id)) {
      console.log(`DUPLICATE ${id}`);
      channel.ack(msg);
      return;
    }
    if (options.delayMs > 0) {
      await sleep(options.delayMs);
    }
    record(fd, {
      id,
      topic,
      key: text(headers['pledge-key']),
      gid: text(headers['pledge-gid']),
      routingKey: msg.fields.routingKey,
      redelivered: msg.fields.redelivered,
      payload: JSON.parse(msg.content.toString('utf8')),
    });
    seen.add(id);
    console.log(`RECEIVED ${id}`);
    channel.ack(msg);
  };
  await channel.consume(
    options.queue,
    (msg) => {
      if (msg === null) {
        console.error('consumer cancelled by the broker');
        process.exit(1);
      }
      chain = chain.then(() => handle(msg)).catch((err) => {
        console.error(`handling failed: ${err.stack || err}`);
        process.exit(1);
      });
    },
    { noAck: false },
  );
  console.log(`READY ${options.queue}`);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(err.message.startsWith('--') || err.message.startsWith('unknown') ? 2 : 1);
});
