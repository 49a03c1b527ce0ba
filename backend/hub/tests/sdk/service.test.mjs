// @azure/web-pubsub (the service SDK, REST) and @azure/web-pubsub-client (JSON and reliable
// subprotocols) against chatr-hub, unmodified.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { WebPubSubServiceClient } from '@azure/web-pubsub'
import { WebPubSubClient, WebPubSubJsonProtocol } from '@azure/web-pubsub-client'
import { LOCAL, startHub, until } from './harness.mjs'

let hub
let service

before(async () => {
  hub = await startHub()
  service = new WebPubSubServiceClient(hub.connectionString, 'chat', LOCAL)
})

after(async () => {
  await hub?.stop()
})

async function client(options, clientOptions) {
  const { url } = await service.getClientAccessToken(options)
  const c = new WebPubSubClient(url, clientOptions)
  const connected = new Promise((ok) => c.on('connected', ok))
  await c.start()
  const info = await connected
  return { c, info }
}

test('the connection string the hub prints is one the SDK accepts', () => {
  assert.match(
    hub.connectionString,
    /^Endpoint=http:\/\/127\.0\.0\.1:\d+;AccessKey=.+;Version=1\.0;$/,
  )
})

test('client tokens from getClientAccessToken connect with the user id', async () => {
  const { c, info } = await client({ userId: 'alice' })
  assert.equal(info.userId, 'alice')
  assert.ok(await service.connectionExists(info.connectionId))
  assert.ok(await service.userExists('alice'))
  c.stop()
})

test('group messages between clients, with per-group roles, over both JSON protocols', async () => {
  const roles = ['webpubsub.joinLeaveGroup.room', 'webpubsub.sendToGroup.room']
  const { c: alice } = await client({ userId: 'alice', roles })
  const { c: bob } = await client({ userId: 'bob', roles }, { protocol: WebPubSubJsonProtocol() })
  const received = []
  bob.on('group-message', (e) => received.push(e.message))
  await alice.joinGroup('room')
  await bob.joinGroup('room')
  await alice.sendToGroup('room', { text: 'hello' }, 'json', { noEcho: true })
  await until(() => received.length === 1, 5000, 'the group message')
  assert.equal(received[0].group, 'room')
  assert.equal(received[0].fromUserId, 'alice')
  assert.deepEqual(received[0].data, { text: 'hello' })
  await assert.rejects(alice.joinGroup('not-allowed'))
  alice.stop()
  bob.stop()
})

test('REST sends to all, a group, a user and a connection', async () => {
  const { c, info } = await client({ userId: 'carol', groups: ['news'] })
  const server = []
  const group = []
  c.on('server-message', (e) => server.push(e.message.data))
  c.on('group-message', (e) => group.push(e.message.data))
  await service.sendToAll({ to: 'all' })
  await service.sendToUser('carol', 'to user', { contentType: 'text/plain' })
  await service.sendToConnection(info.connectionId, { to: 'connection' })
  await service.group('news').sendToAll({ to: 'group' })
  await until(() => server.length === 3 && group.length === 1, 5000, 'four messages')
  assert.deepEqual(server, [{ to: 'all' }, 'to user', { to: 'connection' }])
  assert.deepEqual(group, [{ to: 'group' }])
  c.stop()
})

test('group membership, listing and existence through the service SDK', async () => {
  const { c, info } = await client({ userId: 'dave' })
  const g = service.group('crew')
  assert.equal(await service.groupExists('crew'), false)
  await g.addConnection(info.connectionId)
  assert.equal(await service.groupExists('crew'), true)
  const members = []
  for await (const member of await g.listConnections()) members.push(member)
  assert.deepEqual(
    members.map((m) => m.connectionId),
    [info.connectionId],
  )
  await g.removeConnection(info.connectionId)
  assert.equal(await service.groupExists('crew'), false)
  await g.addUser('dave')
  assert.equal(await service.groupExists('crew'), true)
  await service.removeUserFromAllGroups('dave')
  assert.equal(await service.groupExists('crew'), false)
  await service.addConnectionsToGroups(['filtered'], "userId eq 'dave'")
  assert.equal(await service.groupExists('filtered'), true)
  await service.removeConnectionsFromGroups(['filtered'], "userId eq 'dave'")
  assert.equal(await service.groupExists('filtered'), false)
  c.stop()
})

test('permissions are granted, checked and revoked', async () => {
  const { c, info } = await client({ userId: 'erin' })
  const opts = { targetName: 'stage' }
  assert.equal(await service.hasPermission(info.connectionId, 'sendToGroup', opts), false)
  await service.grantPermission(info.connectionId, 'sendToGroup', opts)
  assert.equal(await service.hasPermission(info.connectionId, 'sendToGroup', opts), true)
  await c.sendToGroup('stage', 'on stage', 'text')
  await service.revokePermission(info.connectionId, 'sendToGroup', opts)
  assert.equal(await service.hasPermission(info.connectionId, 'sendToGroup', opts), false)
  await assert.rejects(c.sendToGroup('stage', 'again', 'text'))
  c.stop()
})

test('closing a connection over REST stops the client', async () => {
  const { c, info } = await client({ userId: 'frank' }, { autoReconnect: false })
  const stopped = new Promise((ok) => c.on('stopped', ok))
  await service.closeConnection(info.connectionId, { reason: 'bye' })
  await stopped
  assert.equal(await service.connectionExists(info.connectionId), false)
})
