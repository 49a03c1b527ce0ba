// socket.io 4 on a free loopback port, WebSocket transport only, rooms as groups: `join(room)`
// joins, `pub(room, payload)` reaches everyone else in the room (like Web PubSub's noEcho).
// Prints its port as the first line of stdout.
import { createServer } from 'node:http'
import { Server } from 'socket.io'

const http = createServer()
const io = new Server(http, { transports: ['websocket'], maxHttpBufferSize: 1e6 })
io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    socket.join(room)
    if (typeof ack === 'function') ack()
  })
  socket.on('pub', (room, payload) => socket.to(room).emit('msg', payload))
})
http.listen(0, '127.0.0.1', () => console.log(http.address().port))
