// @azure/web-pubsub-client's reliable protocol recovers a dropped socket: 200 messages published
// while the TCP connection is cut mid-stream arrive exactly once, in order.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { WebPubSubServiceClient } from '@azure/web-pubsub'
import { WebPubSubClient } from '@azure/web-pubsub-client'
import { LOCAL, KEY, startHub, startProxy, until } from './harness.mjs'

let hub
let proxy

before(async () => {
  hub = await startHub()
  proxy = await startProxy(hub.port)
})

after(async () => {
  await proxy?.close()
  await hub?.stop()
})

test('no message is lost or duplicated across a dropped connection', async () => {
  // The client reaches the hub through the proxy, so its token is for the proxy's address.
  const viaProxy = new WebPubSubServiceClient(
    `Endpoint=http://127.0.0.1:${proxy.port};AccessKey=${KEY};Version=1.0;`,
    'chat',
    LOCAL,
  )
  const direct = new WebPubSubServiceClient(hub.connectionString, 'chat', LOCAL)
  const { url } = await viaProxy.getClientAccessToken({ userId: 'listener', groups: ['feed'] })
  const client = new WebPubSubClient(url)
  const received = []
  client.on('group-message', (e) => received.push(e.message.data.n))
  let disconnects = 0
  client.on('disconnected', () => disconnects++)
  await client.start()

  const total = 200
  for (let n = 1; n <= total; n++) {
    if (n === 100) proxy.cut()
    await direct.group('feed').sendToAll({ n })
  }
  await until(() => received.length >= total, 20_000, `${total} messages`)
  // Anything extra would arrive promptly; give it a moment before counting.
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(received.length, total, 'no duplicates')
  assert.deepEqual(
    received,
    Array.from({ length: total }, (_, i) => i + 1),
    'all, in order',
  )
  assert.equal(disconnects, 0, 'recovery is invisible: no disconnected event')
  client.stop()
})
