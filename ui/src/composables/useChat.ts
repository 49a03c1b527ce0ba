// Owns the chat state of the signed-in user: who they are, people, chats, the open chat and its
// messages, and the connection state. Components read it and call its actions; only this file
// changes it, and only this file listens to Rust's events.
import { computed, ref } from 'vue'
import * as ipc from '../ipc'
import { mergeMessages, newClientKey } from '../lib/messages'
import type { ChatView, CommandError, ConnectionState, Message, UiEvent, User } from '../types'

const me = ref<User | null>(null)
const users = ref<User[]>([])
const chats = ref<ChatView[]>([])
const activeChatId = ref<string | null>(null)
const messages = ref<Record<string, Message[]>>({})
const connection = ref<ConnectionState>('connecting')
const error = ref<CommandError | null>(null)
let unlisten: (() => void) | null = null

function handle(event: UiEvent): void {
  if (event.type === 'connection') {
    connection.value = event.data.state
    // Presence may have changed while we were away (or before our first list arrived).
    if (event.data.state === 'connected' && me.value)
      void ipc.listUsers().then((u) => (users.value = u))
    return
  }
  const server = event.data
  switch (server.chatEvent) {
    case 'message': {
      const m = server.data.message
      messages.value = {
        ...messages.value,
        [m.chatId]: mergeMessages(messages.value[m.chatId] ?? [], [m]),
      }
      break
    }
    case 'chatCreated':
      if (!chats.value.some((c) => c.id === server.data.chat.id)) {
        const mine = server.data.chat.owner === me.value?.id
        chats.value = [...chats.value, { ...server.data.chat, member: mine }]
      }
      break
    case 'chatDeleted':
      chats.value = chats.value.filter((c) => c.id !== server.data.chatId)
      if (activeChatId.value === server.data.chatId) activeChatId.value = null
      break
    case 'userOnline':
      users.value = [...users.value.filter((u) => u.id !== server.data.user.id), server.data.user]
      break
    case 'userOffline':
    case 'userIsIdle':
    case 'userNotIdle': {
      const presence =
        server.chatEvent === 'userOffline'
          ? 'offline'
          : server.chatEvent === 'userIsIdle'
            ? 'idle'
            : 'online'
      users.value = users.value.map((u) => (u.id === server.data.userId ? { ...u, presence } : u))
      break
    }
    default:
      break
  }
}

async function guard<T>(action: () => Promise<T>): Promise<T | undefined> {
  try {
    error.value = null
    return await action()
  } catch (err) {
    error.value = ipc.toCommandError(err)
    return undefined
  }
}

/** The chat state and its actions. */
export function useChat() {
  async function signIn(name: string): Promise<void> {
    await guard(async () => {
      if (!unlisten) unlisten = await ipc.onUiEvent(handle)
      me.value = await ipc.signInLocal(name)
      await refresh()
    })
  }

  async function refresh(): Promise<void> {
    const [c, u] = await Promise.all([ipc.listChats(), ipc.listUsers()])
    chats.value = c
    users.value = u
  }

  async function create(name: string): Promise<void> {
    const chat = await guard(() => ipc.createChat(name))
    if (chat) {
      if (!chats.value.some((c) => c.id === chat.id))
        chats.value = [...chats.value, { ...chat, member: true }]
      else chats.value = chats.value.map((c) => (c.id === chat.id ? { ...c, member: true } : c))
      await open(chat.id)
    }
  }

  async function open(chatId: string): Promise<void> {
    const chat = chats.value.find((c) => c.id === chatId)
    if (chat && !chat.member) {
      const joined = await guard(() => ipc.joinChat(chatId))
      if (!joined) return
      chats.value = chats.value.map((c) => (c.id === chatId ? { ...c, member: true } : c))
    }
    activeChatId.value = chatId
    const page = await guard(() => ipc.loadHistory(chatId))
    if (page)
      messages.value = {
        ...messages.value,
        [chatId]: mergeMessages(messages.value[chatId] ?? [], page),
      }
  }

  async function send(text: string): Promise<void> {
    const chatId = activeChatId.value
    if (!chatId || !text.trim()) return
    const stored = await guard(() => ipc.sendMessage(chatId, newClientKey(), text))
    if (stored)
      messages.value = {
        ...messages.value,
        [chatId]: mergeMessages(messages.value[chatId] ?? [], [stored]),
      }
  }

  const activeChat = computed(() => chats.value.find((c) => c.id === activeChatId.value) ?? null)
  const activeMessages = computed(() =>
    activeChatId.value ? (messages.value[activeChatId.value] ?? []) : [],
  )
  const nameOf = (userId: string) => users.value.find((u) => u.id === userId)?.name ?? userId

  return {
    me,
    users,
    chats,
    activeChat,
    activeMessages,
    connection,
    error,
    signIn,
    create,
    open,
    send,
    nameOf,
  }
}
