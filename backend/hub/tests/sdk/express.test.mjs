// @azure/web-pubsub-express as the upstream event handler: it checks abuse protection and the
// CloudEvents headers of chatr-hub's requests, and its answers shape connections and replies.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import express from 'express'
import { WebPubSubServiceClient } from '@azure/web-pubsub'
import { WebPubSubClient } from '@azure/web-pubsub-client'
import { WebPubSubEventHandler } from '@azure/web-pubsub-express'
import { LOCAL, freePort, startHub, until } from './harness.mjs'

let hub
let server
const events = []

before(async () => {
  const hubPort = await freePort()
  const handler = new WebPubSubEventHandler('chat', {
    // Only our hub may send events: the handler answers abuse protection for it alone.
    allowedEndpoints: [`http://127.0.0.1:${hubPort}`],
    handleConnect: (req, res) => {
      events.push({ type: 'connect', userId: req.context.userId, claims: req.claims })
      if (req.context.userId === 'blocked') return res.fail(401, 'not you')
      res.success({ userId: `verified:${req.context.userId}`, groups: ['lobby'] })
    },
    handleUserEvent: (req, res) => {
      events.push({
        type: 'event',
        name: req.context.eventName,
        data: req.data,
        userId: req.context.userId,
      })
      res.success(JSON.stringify({ echo: req.data }), 'json')
    },
    onConnected: (req) => events.push({ type: 'connected', userId: req.context.userId }),
    onDisconnected: (req) => events.push({ type: 'disconnected', userId: req.context.userId }),
  })
  const app = express()
  app.use(handler.getMiddleware())
  server = await new Promise((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s))
  })
  const upstream = `http://127.0.0.1:${server.address().port}${handler.path}`
  hub = await startHub({ port: hubPort, upstream })
})

after(async () => {
  await hub?.stop()
  await new Promise((ok) => server?.close(ok))
})

test('connect, user events, connected and disconnected flow through the official handler', async () => {
  const service = new WebPubSubServiceClient(hub.connectionString, 'chat', LOCAL)
  const { url } = await service.getClientAccessToken({ userId: 'ann' })
  const client = new WebPubSubClient(url)
  const connected = new Promise((ok) => client.on('connected', ok))
  const replies = []
  client.on('server-message', (e) => replies.push(e.message.data))
  await client.start()
  const info = await connected
  assert.equal(info.userId, 'verified:ann', 'the handler chose the user id')
  assert.ok(await service.group('lobby').listConnections(), 'joined the lobby')
  assert.equal(await service.groupExists('lobby'), true)

  await client.sendEvent('sendMessage', { text: 'hi' }, 'json')
  await until(() => replies.length === 1, 5000, 'the reply')
  assert.deepEqual(replies[0], { echo: { text: 'hi' } })
  assert.ok(
    events.some(
      (e) => e.type === 'event' && e.name === 'sendMessage' && e.userId === 'verified:ann',
    ),
  )
  await until(() => events.some((e) => e.type === 'connected'), 5000, 'connected')

  client.stop()
  await until(() => events.some((e) => e.type === 'disconnected'), 5000, 'disconnected')
})

test('a connect the handler fails is refused', async () => {
  const service = new WebPubSubServiceClient(hub.connectionString, 'chat', LOCAL)
  const { url } = await service.getClientAccessToken({ userId: 'blocked' })
  const client = new WebPubSubClient(url, { autoReconnect: false })
  await assert.rejects(client.start())
})
