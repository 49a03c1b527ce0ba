// Owns each chat's messages: stored ones (one per seq), my pending ones (one per clientKey, until
// the stored copy arrives, by answer or by push), and the system lines the UI writes. History
// loads page by page, newest first. New messages from others in the chat on screen are
// announced to screen readers.
import { reactive, ref, shallowRef } from 'vue'
import * as ipc from '../ipc'
import { strings } from '../strings'
import {
  mergeMessages,
  newClientKey,
  sendErrorText,
  unsettled,
  type Pending,
} from '../lib/messages'
import type { SystemLine } from '../lib/timeline'
import type { Message } from '../types'
import { useChats } from './useChats'
import { reportError } from './useErrors'
import { useMe } from './useMe'

export interface ChatLog {
  messages: Message[]
  pending: Pending[]
  system: SystemLine[]
  /** A history page is on its way. */
  loading: boolean
  /** The first page came. */
  loaded: boolean
  /** Older pages may exist. */
  hasMore: boolean
}

const empty: ChatLog = {
  messages: [],
  pending: [],
  system: [],
  loading: false,
  loaded: false,
  hasMore: true,
}

// Immutable updates on a shallow ref: 10,000 messages need no deep reactivity.
const logs = shallowRef<Record<string, ChatLog>>({})
const announcement = ref('')
// Unsent text per chat, kept while another chat is on screen.
const drafts = reactive<Record<string, string>>({})
let nextSystemId = 1
const me = useMe()

function logOf(chatId: string): ChatLog {
  return logs.value[chatId] ?? empty
}

function update(chatId: string, change: (log: ChatLog) => Partial<ChatLog>): void {
  const log = logOf(chatId)
  logs.value = { ...logs.value, [chatId]: { ...log, ...change(log) } }
}

function append(existing: Message[], incoming: Message[]): Message[] {
  // The common case, one new message after the last, needs no merge.
  const last = existing[existing.length - 1]
  if (incoming.length === 1 && (!last || incoming[0].seq > last.seq))
    return [...existing, incoming[0]]
  return mergeMessages(existing, incoming)
}

function store(chatId: string, incoming: Message[]): void {
  update(chatId, (log) => {
    const messages = append(log.messages, incoming)
    return { messages, pending: unsettled(log.pending, incoming) }
  })
}

/** A pushed message (exactly once from Rust; de-duplicated here anyway). */
function receive(message: Message): void {
  const known = logOf(message.chatId).messages.some((m) => m.seq === message.seq)
  store(message.chatId, [message])
  const { activeId, nameOf } = useChats()
  if (!known && message.from !== me.value?.id && message.chatId === activeId.value) {
    announcement.value = strings.messages.announce(nameOf(message.from), message.text.slice(0, 200))
  }
}

/** Adds a line the UI writes itself (joined, left, wants to chat). */
function addSystem(chatId: string, text: string, at = Date.now()): void {
  update(chatId, (log) => ({ system: [...log.system, { id: nextSystemId++, text, at }] }))
}

async function fetchPage(chatId: string, before: number | null): Promise<void> {
  update(chatId, () => ({ loading: true }))
  try {
    const page = await ipc.loadHistory(chatId, before)
    update(chatId, (log) => ({
      messages: mergeMessages(log.messages, page),
      pending: unsettled(log.pending, page),
      loaded: true,
      hasMore: page.length > 0,
    }))
  } catch (err) {
    reportError(err)
  } finally {
    update(chatId, () => ({ loading: false }))
  }
}

async function deliver(chatId: string, clientKey: string, text: string): Promise<void> {
  try {
    store(chatId, [await ipc.sendMessage(chatId, clientKey, text)])
  } catch (err) {
    const error = sendErrorText(ipc.toCommandError(err))
    update(chatId, (log) => ({
      pending: log.pending.map((p) =>
        p.clientKey === clientKey ? { ...p, status: 'failed' as const, error } : p,
      ),
    }))
  }
}

/** Messages per chat and their actions. */
export function useMessages() {
  return {
    logs,
    announcement,
    drafts,
    logOf,
    receive,
    addSystem,
    /** The latest page, once per chat. */
    loadLatest: async (chatId: string) => {
      const log = logOf(chatId)
      if (!log.loaded && !log.loading) await fetchPage(chatId, null)
    },
    /** The page before the oldest message shown. */
    loadOlder: async (chatId: string) => {
      const log = logOf(chatId)
      if (log.loading || !log.hasMore) return
      await fetchPage(chatId, log.messages[0]?.seq ?? null)
    },
    /** Shows the message as pending at once; it settles when Rust says it is stored. */
    send: (chatId: string, text: string) => {
      const clientKey = newClientKey()
      const pending: Pending = {
        chatId,
        clientKey,
        text,
        createdAt: Date.now(),
        status: 'sending',
        error: null,
      }
      update(chatId, (log) => ({ pending: [...log.pending, pending] }))
      return deliver(chatId, clientKey, text)
    },
    /** Sends a failed message again, with the same clientKey (never stored twice). */
    retry: (chatId: string, clientKey: string) => {
      const p = logOf(chatId).pending.find((x) => x.clientKey === clientKey)
      if (!p) return Promise.resolve()
      update(chatId, (log) => ({
        pending: log.pending.map((x) =>
          x.clientKey === clientKey ? { ...x, status: 'sending' as const, error: null } : x,
        ),
      }))
      return deliver(chatId, clientKey, p.text)
    },
    forget: (chatId: string) => {
      const next = { ...logs.value }
      delete next[chatId]
      logs.value = next
      delete drafts[chatId]
    },
    reset: () => {
      logs.value = {}
      announcement.value = ''
      for (const chatId of Object.keys(drafts)) delete drafts[chatId]
    },
  }
}
