// A Kinesis Data Streams peer for the integration tests: kinesalite (an independent implementation
// of the Kinesis API, from npm) listening on 127.0.0.1 only, and a small client of its own for
// the test's side (create, put, split, read back). Its command line is not used because it
// listens on every interface.
//   node kinesis_tool.js serve                      prints the port, serves until killed
//   node kinesis_tool.js PORT create STREAM SHARDS  waits until ACTIVE
//   node kinesis_tool.js PORT put STREAM FILE KEYFIELD   one record per line, 500 per call
//   node kinesis_tool.js PORT split STREAM SHARD    splits the shard at the middle of its keys
//   node kinesis_tool.js PORT shards STREAM         one line per shard: id parent state
//   node kinesis_tool.js PORT read STREAM           every record of every shard, one per line
'use strict';
const http = require('http');

function call(port, op, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'Kinesis_20131202.' + op,
        'X-Amz-Date': '20260101T000000Z',
        // kinesalite checks the header's shape, not the signature
        'Authorization': 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, ' +
          'SignedHeaders=host;x-amz-date, Signature=0',
        'Content-Length': Buffer.byteLength(data),
      },
    }, (res) => {
      let chunks = '';
      res.on('data', (c) => { chunks += c; });
      res.on('end', () => {
        const out = chunks ? JSON.parse(chunks) : {};
        if (res.statusCode !== 200) reject(new Error(op + ': ' + res.statusCode + ' ' + chunks));
        else resolve(out);
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitActive(port, stream) {
  for (let i = 0; i < 200; i++) {
    const d = await call(port, 'DescribeStream', {StreamName: stream});
    if (d.StreamDescription.StreamStatus === 'ACTIVE') return;
    await sleep(50);
  }
  throw new Error(stream + ' did not become ACTIVE');
}

async function listShards(port, stream) {
  return (await call(port, 'ListShards', {StreamName: stream})).Shards;
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === 'serve') {
    const kinesalite = require('kinesalite');
    const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
    server.listen(0, '127.0.0.1', () => { console.log(server.address().port); });
    return;
  }
  const port = +args[0], cmd = args[1], stream = args[2];
  if (cmd === 'create') {
    await call(port, 'CreateStream', {StreamName: stream, ShardCount: +args[3]});
    await waitActive(port, stream);
  } else if (cmd === 'put') {
    const lines = require('fs').readFileSync(args[3], 'utf8').split('\n').filter((l) => l);
    for (let i = 0; i < lines.length; i += 500) {
      let batch = lines.slice(i, i + 500).map((l) => ({
        Data: Buffer.from(l).toString('base64'),
        PartitionKey: String(JSON.parse(l)[args[4]]),
      }));
      while (batch.length) {
        const r = await call(port, 'PutRecords', {StreamName: stream, Records: batch});
        batch = batch.filter((_, k) => r.Records[k].ErrorCode);
      }
    }
  } else if (cmd === 'split') {
    const sh = (await listShards(port, stream)).find((s) => s.ShardId === args[3]);
    const lo = BigInt(sh.HashKeyRange.StartingHashKey), hi = BigInt(sh.HashKeyRange.EndingHashKey);
    await call(port, 'SplitShard', {StreamName: stream, ShardToSplit: args[3],
                                    NewStartingHashKey: ((lo + hi) / 2n).toString()});
    await waitActive(port, stream);
  } else if (cmd === 'shards') {
    for (const s of await listShards(port, stream)) {
      console.log(s.ShardId, s.ParentShardId || '-',
                  s.SequenceNumberRange.EndingSequenceNumber ? 'closed' : 'open');
    }
  } else if (cmd === 'read') {
    for (const s of await listShards(port, stream)) {
      let it = (await call(port, 'GetShardIterator', {StreamName: stream, ShardId: s.ShardId,
                                                      ShardIteratorType: 'TRIM_HORIZON'})).ShardIterator;
      while (it) {
        const r = await call(port, 'GetRecords', {ShardIterator: it, Limit: 10000});
        for (const rec of r.Records) console.log(Buffer.from(rec.Data, 'base64').toString());
        if (!r.Records.length) break; // an open shard read to its end
        it = r.NextShardIterator;
      }
    }
  } else {
    throw new Error('unknown command ' + cmd);
  }
}

main().catch((e) => { console.error(e.message); process.exit(1); });
