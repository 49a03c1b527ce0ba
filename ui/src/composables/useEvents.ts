// The one subscriber to Rust's `chatr://ui` event: hands each event to the composable that owns
// that state, and wires the few that touch two (a message ends its sender's typing; a member
// joining or leaving writes a line in the chat).
import * as ipc from '../ipc'
import { strings } from '../strings'
import type { UiEvent } from '../types'
import { useChats } from './useChats'
import { setConnection } from './useConnection'
import { useMe } from './useMe'
import { useMessages } from './useMessages'
import { useSession } from './useSession'
import { useTyping } from './useTyping'

let subscribed: Promise<void> | null = null
let unlisten: (() => void) | null = null

/** Routes one event. Exported for tests. */
export function dispatch(event: UiEvent): void {
  const chats = useChats()
  const messages = useMessages()
  const me = useMe()
  switch (event.type) {
    case 'connection':
      setConnection(event.data.state, event.data.detail)
      // Presence and chats may have changed while we were away (missed pushes are not resent).
      if (event.data.state === 'connected' && me.value) chats.load().catch(console.warn)
      return
    case 'typing':
      useTyping().handleTyping(event.data.chatId, event.data.userId)
      return
    case 'unread':
      chats.setUnread(event.data.counts)
      return
    case 'openChat':
      void chats.reveal(event.data.chatId)
      return
    case 'signedOut':
      useSession().signedOut(event.data.reason)
      return
    case 'server':
      break
  }
  const server = event.data
  switch (server.chatEvent) {
    case 'message':
      useTyping().stopped(server.data.message.chatId, server.data.message.from)
      messages.receive(server.data.message)
      return
    case 'memberJoined':
      if (server.data.user.id !== me.value?.id)
        messages.addSystem(
          server.data.chatId,
          strings.messages.joined(chats.nameWith(server.data.user)),
        )
      break
    case 'memberLeft':
      if (server.data.userId !== me.value?.id)
        messages.addSystem(
          server.data.chatId,
          strings.messages.left(chats.nameOf(server.data.userId)),
        )
      break
    case 'joinPrivateChat':
      if (!server.data.grabFocus)
        messages.addSystem(
          server.data.chat.id,
          strings.messages.wantsToChat(
            chats.nameWith({
              id: server.data.chat.owner,
              name: server.data.chat.name,
              provider: '',
            }),
          ),
        )
      break
    case 'chatDeleted':
      messages.forget(server.data.chatId)
      break
  }
  chats.handleServer(server)
}

/** Subscribes once; call before anything that makes Rust emit (restore, sign-in). */
export function connectEvents(): Promise<void> {
  subscribed ??= ipc.onUiEvent(dispatch).then(
    (stop) => {
      unlisten = stop
    },
    (err) => {
      subscribed = null
      console.warn('chatr: cannot listen to Rust events', err)
    },
  )
  return subscribed
}

/** Unsubscribes (the app's frame going away, and tests). */
export function disconnectEvents(): void {
  const stop = unlisten
  unlisten = null
  subscribed = null
  // Tauri's unlisten is async; a window already going away may refuse it, which is fine.
  if (stop)
    Promise.resolve()
      .then(stop)
      .catch(() => {})
}
