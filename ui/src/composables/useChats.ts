// Owns the chat list, the people list, unread counts and which chat is on screen. Components
// read it and call its actions; only this file changes that state. Every change of the chat on
// screen is told to Rust (`set_active_chat`), which zeroes its unread count.
import { computed, ref, watch } from 'vue'
import * as ipc from '../ipc'
import { strings } from '../strings'
import { nameBook, peerOf, showChat } from '../lib/names'
import { upsertUser, withPresence } from '../lib/users'
import type { Chat, ChatView, ServerEvent, User } from '../types'
import { reportError } from './useErrors'
import { useMe } from './useMe'
import { useSettings } from './useSettings'
import { invite, toast, type Tone } from './useToasts'

const chats = ref<ChatView[]>([])
const users = ref<User[]>([])
const unread = ref<Record<string, number>>({})
const activeId = ref<string | null>(null)
// The other person of each private chat, where this app saw who it is (see `peerOf`).
const peers = ref<Record<string, string>>({})
const me = useMe()
// Counts changes to `chats` other than a full load (see `load`).
let version = 0

function setChats(next: ChatView[]): void {
  version += 1
  chats.value = next
}

watch(activeId, (id) => {
  ipc.setActiveChat(id).catch(reportError)
})

const book = computed(() => nameBook(users.value))
// Open chats as shown: a private chat under its peer's name, tagged when the name is shared.
const tabs = computed(() =>
  chats.value
    .filter((c) => c.member)
    .map((c) => showChat(c, peerOf(c, me.value?.id ?? null, users.value, peers.value), book.value)),
)
const groupChats = computed(() => chats.value.filter((c) => c.kind === 'group'))
const activeChat = computed(() => tabs.value.find((c) => c.id === activeId.value) ?? null)

function upsertChat(chat: Chat, member: boolean): void {
  const i = chats.value.findIndex((c) => c.id === chat.id)
  const next = { ...chat, member }
  setChats(i < 0 ? [...chats.value, next] : chats.value.map((c, j) => (j === i ? next : c)))
}

/** A person's name as shown (tagged when another known user has the same name). */
function nameOf(userId: string): string {
  return book.value.label(userId)
}

/** [`nameOf`] for someone who may not be in the people list yet (a push names them). */
function nameWith(user: Pick<User, 'id' | 'name' | 'provider'>): string {
  if (users.value.some((u) => u.id === user.id)) return nameOf(user.id)
  return nameBook([...users.value, { ...user, presence: 'offline' }]).label(user.id)
}

/** A person's hover text: name, provider and full id. */
function titleOf(userId: string): string {
  return book.value.title(userId)
}

function rememberPeer(chatId: string, userId: string): void {
  if (peers.value[chatId] !== userId) peers.value = { ...peers.value, [chatId]: userId }
}

/** Puts `chatId` on screen (null: none); its unread count is gone. */
function focus(chatId: string | null): void {
  activeId.value = chatId
  if (chatId && unread.value[chatId]) unread.value = { ...unread.value, [chatId]: 0 }
}

/** After the chat on screen went away: show its neighbour tab, or nothing. */
function focusNeighbour(goneId: string, before: ChatView[]): void {
  if (activeId.value !== goneId) return
  const i = before.findIndex((c) => c.id === goneId)
  const rest = before.filter((c) => c.id !== goneId)
  focus(rest[Math.min(i, rest.length - 1)]?.id ?? null)
}

function presenceToast(userId: string, text: (name: string) => string, tone: Tone): void {
  const user = users.value.find((u) => u.id === userId)
  if (!user || userId === me.value?.id || useSettings().settings.value.doNotDisturb) return
  toast(text(nameOf(user.id)), tone)
}

/** Applies a backend push about chats or people. */
function handleServer(event: ServerEvent): void {
  switch (event.chatEvent) {
    case 'chatCreated': {
      const known = chats.value.find((c) => c.id === event.data.chat.id)
      upsertChat(event.data.chat, known?.member ?? event.data.chat.owner === me.value?.id)
      break
    }
    case 'chatDeleted': {
      const before = tabs.value
      const chat = chats.value.find((c) => c.id === event.data.chatId)
      setChats(chats.value.filter((c) => c.id !== event.data.chatId))
      if (chat?.member && chat.owner !== me.value?.id) toast(strings.toasts.chatDeleted, 'danger')
      focusNeighbour(event.data.chatId, before)
      break
    }
    case 'userOnline': {
      const wasOnline = users.value.find((u) => u.id === event.data.user.id)?.presence
      users.value = upsertUser(users.value, event.data.user)
      if (wasOnline !== 'online' && wasOnline !== 'idle')
        presenceToast(event.data.user.id, strings.toasts.joined, 'success')
      break
    }
    case 'userOffline':
      users.value = withPresence(users.value, event.data.userId, 'offline')
      presenceToast(event.data.userId, strings.toasts.left, 'warning')
      break
    case 'userIsIdle':
      users.value = withPresence(users.value, event.data.userId, 'idle')
      presenceToast(event.data.userId, strings.toasts.idle, 'link')
      break
    case 'userNotIdle':
      users.value = withPresence(users.value, event.data.userId, 'online')
      presenceToast(event.data.userId, strings.toasts.back, 'link')
      break
    case 'memberJoined':
      users.value = upsertUser(users.value, event.data.user)
      break
    case 'joinPrivateChat': {
      const wasOpen = chats.value.some((c) => c.id === event.data.chat.id && c.member)
      // Sent to the other person: the chat's first opener is its peer, unless that was you.
      const opener = event.data.chat.owner
      if (!event.data.grabFocus && opener !== me.value?.id) rememberPeer(event.data.chat.id, opener)
      upsertChat(event.data.chat, true)
      if (event.data.grabFocus) focus(event.data.chat.id)
      else if (!wasOpen && activeId.value !== event.data.chat.id) invite(event.data.chat)
      break
    }
    default:
      break
  }
}

/** Fetches both lists. A list that changed here meanwhile (a push, an action) is fetched again,
 *  so a slow answer never undoes what happened after it was asked for. */
async function load(retries = 2): Promise<void> {
  const before = version
  const [c, u] = await Promise.all([ipc.listChats(), ipc.listUsers()])
  users.value = u
  if (version === before) chats.value = c
  else if (retries > 0) await load(retries - 1)
}

/** The chat state and its actions (each reports its own failure in the error notice). */
export function useChats() {
  async function create(name: string): Promise<boolean> {
    try {
      const chat = await ipc.createChat(name)
      if (chat) {
        upsertChat(chat, true)
        focus(chat.id)
      }
      return true
    } catch (err) {
      reportError(err)
      return false
    }
  }

  /** Shows a chat from the list, joining it first if needed. */
  async function open(chatId: string): Promise<void> {
    const chat = chats.value.find((c) => c.id === chatId)
    if (!chat) return
    if (!chat.member) {
      try {
        upsertChat((await ipc.joinChat(chatId)) ?? chat, true)
      } catch (err) {
        return reportError(err)
      }
    }
    focus(chatId)
  }

  /** Opens (or focuses) the private chat with `userId`. */
  async function openPrivate(userId: string): Promise<void> {
    if (userId === me.value?.id) return
    try {
      const chat = await ipc.openPrivateChat(userId)
      rememberPeer(chat.id, userId)
      upsertChat(chat, true)
      focus(chat.id)
    } catch (err) {
      reportError(err)
    }
  }

  async function leave(chatId: string): Promise<boolean> {
    const before = tabs.value
    try {
      await ipc.leaveChat(chatId)
    } catch (err) {
      reportError(err)
      return false
    }
    setChats(chats.value.map((c) => (c.id === chatId ? { ...c, member: false } : c)))
    focusNeighbour(chatId, before)
    return true
  }

  async function remove(chatId: string): Promise<boolean> {
    const before = tabs.value
    try {
      await ipc.deleteChat(chatId)
    } catch (err) {
      reportError(err)
      return false
    }
    setChats(chats.value.filter((c) => c.id !== chatId))
    focusNeighbour(chatId, before)
    return true
  }

  /** `openChat` from a notification or the tray: show it (reloading the list if it is new). */
  async function reveal(chatId: string): Promise<void> {
    if (!chats.value.some((c) => c.id === chatId && c.member)) {
      try {
        await load()
      } catch (err) {
        return reportError(err)
      }
    }
    if (chats.value.some((c) => c.id === chatId && c.member)) focus(chatId)
  }

  function reset(): void {
    chats.value = []
    users.value = []
    unread.value = {}
    activeId.value = null
    peers.value = {}
  }

  return {
    chats,
    users,
    unread,
    activeId,
    tabs,
    groupChats,
    activeChat,
    nameOf,
    nameWith,
    titleOf,
    load,
    create,
    open,
    openPrivate,
    leave,
    remove,
    focus,
    reveal,
    reset,
    handleServer,
    setUnread: (counts: Record<string, number>) => {
      unread.value = counts
    },
  }
}
